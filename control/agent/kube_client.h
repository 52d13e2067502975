// podvs-agent's HTTP client for the Kubernetes API, over libcurl: JSON GET, merge PATCH, and a
// streaming GET for WATCH that hands over one complete line at a time. TLS trust, client
// certificates and the bearer token come from the ClusterConfig.
//
// Thread safety: each call uses its own curl handle, so one KubeClient serves several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/agent/agent_stats.h"
#include "control/agent/cluster_config.h"

namespace podvs::agent {

// A failed request. http_status is 0 when no HTTP answer came (connection, TLS, timeout); else
// reason and the message are the API's Status body ("NotFound", "Expired", ...) when it sent one.
struct KubeError : std::runtime_error {
  KubeError(int status, std::string why, const std::string& what)
      : std::runtime_error(what), http_status(status), reason(std::move(why)) {}
  int http_status;
  std::string reason;
};

struct KubeTimeouts {
  std::chrono::seconds connect{10};
  std::chrono::seconds request{30};  // a whole GET or PATCH
};

class KubeClient {
 public:
  // Every failed request is reported to `stats` (api_error) by its HTTP status.
  explicit KubeClient(ClusterConfig config, KubeTimeouts timeouts = {},
                      AgentStats& stats = AgentStats::none());
  ~KubeClient();

  // path_and_query starts with '/': "/api/v1/nodes?limit=500".
  nlohmann::json get(const std::string& path_and_query);
  // A JSON merge patch (RFC 7386, application/merge-patch+json); returns the patched object.
  nlohmann::json merge_patch(const std::string& path, const nlohmann::json& patch);
  // GETs a stream and calls on_line with each complete line (without its newline) as it arrives.
  // Returns when the server ends the stream; throws KubeError for an HTTP error status (with the
  // Status body decoded) or a broken transfer, in which case a partial last line is dropped.
  // The transfer is aborted within about a second once `stop` is true (then it simply returns),
  // and after `timeout` in all.
  void stream_lines(const std::string& path_and_query,
                    const std::function<void(std::string_view)>& on_line,
                    const std::atomic<bool>& stop, std::chrono::seconds timeout);

  const ClusterConfig& config() const { return config_; }

 private:
  struct Request;
  std::string perform(Request& request);

  ClusterConfig config_;
  KubeTimeouts timeouts_;
  AgentStats& stats_;
  std::unique_ptr<TokenFile> token_file_;
};

// The error for an HTTP status and body: "GET /api/v1/nodes: 403 Forbidden: nodes is
// forbidden: ..." with the Status's reason and message when the body is one.
KubeError http_error(const std::string& what, long status, const std::string& body);

}  // namespace podvs::agent
