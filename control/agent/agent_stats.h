// What podvs-agent's parts report about themselves, for its Prometheus endpoint to count
// (agent_metrics.h implements it with prometheus-cpp). An interface, so the informer, the
// controllers and the clients neither know prometheus-cpp nor need a metrics endpoint in their
// tests: AgentStats::none() ignores everything.
//
// Thread safety: implementations are called from every agent thread at once (informers,
// resyncer, curl and gRPC calls), so each method must be safe to call concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace podvs::agent {

// Why a WATCH ended and was started again.
enum class WatchEnd {
  closed,       // the server ended the stream cleanly (normally at timeoutSeconds)
  broken,       // no answer, an HTTP error, or the stream broke mid-way
  error_event,  // the server sent an ERROR event
  expired,      // 410 Gone: the resourceVersion is too old; a relist follows
};

class AgentStats {
 public:
  virtual ~AgentStats() = default;

  // A stats sink that counts nothing: the default wherever none is given.
  static AgentStats& none();

  // Informers; `resource` is the collection's last path segment ("nodes").
  virtual void watch_ended(const std::string& /*resource*/, WatchEnd /*why*/) {}
  // A complete LIST delivered; `relist` is false for the informer's first.
  virtual void listed(const std::string& /*resource*/, bool /*relist*/) {}
  virtual void objects(const std::string& /*resource*/, size_t /*count*/) {}
  virtual void synced(const std::string& /*resource*/, bool /*synced*/) {}

  // The API server: a request that failed; http_status 0 when no HTTP answer came.
  virtual void api_error(int /*http_status*/) {}

  // podvsd: every gRPC call's outcome (grpc::StatusCode as a number; 0 is OK).
  virtual void podvsd_call(int /*grpc_code*/) {}

  // A Node not programmed as a remote node, counted once per distinct problem (as it is
  // logged); `reason` is a short label (node_translation.h's NodeTranslation::reason).
  virtual void node_skipped(const std::string& /*reason*/) {}

  // One resync of a controller against podvsd (resyncer.h), and each difference it mended;
  // `what` is "missing", "different", "extra", "pod_cidr" or "annotations".
  virtual void resynced(const std::string& /*controller*/) {}
  virtual void repaired(const std::string& /*controller*/, const std::string& /*what*/) {}

  // Network programming latency (kube-proxy's network_programming_duration_seconds): from a
  // change's trigger time, or its event's arrival, to podvsd's reply. From a trigger time (an
  // EndpointSlice's last-change-trigger-time), pass system_clock::now() - trigger: the
  // durations convert.
  virtual void programmed(std::chrono::steady_clock::duration /*latency*/) {}
};

}  // namespace podvs::agent
