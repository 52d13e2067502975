// podvs-agent's metrics, with prometheus-cpp: AgentStats counted in a prometheus registry, and
// families read from other parts at each scrape (add_scraped). Names start with podvs_agent_;
// the README's podvs-agent section lists them. metrics_endpoint.h serves them over HTTP.
//
// Thread safety: every method may be called from any thread (prometheus-cpp's families and
// metrics lock or use atomics; the scraped sources are read under a mutex).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/agent/agent_stats.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace podvs::agent {

// A family whose values another part keeps (a controller's plain stats struct, say) and the
// metrics read at each scrape: one sample per label value.
struct ScrapedFamily {
  std::string name;  // podvs_agent_...; a counter's ends in _total
  std::string help;
  bool counter = true;  // else a gauge
  std::string label;    // the label's name; its values are read's keys
  std::function<std::map<std::string, double>()> read;
};

// The network programming latency histogram's buckets, in seconds: from 1 ms (a podvsd call
// on an idle node) to 30 s (kube-proxy's own worst bucket of interest is its sync period).
inline const std::vector<double> kProgrammingBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

class AgentMetrics final : public AgentStats {
 public:
  AgentMetrics();
  ~AgentMetrics() override;

  void watch_ended(const std::string& resource, WatchEnd why) override;
  void listed(const std::string& resource, bool relist) override;
  void objects(const std::string& resource, size_t count) override;
  void synced(const std::string& resource, bool synced) override;
  void api_error(int http_status) override;
  void podvsd_call(int grpc_code) override;
  void node_skipped(const std::string& reason) override;
  void resynced(const std::string& controller) override;
  void repaired(const std::string& controller, const std::string& what) override;
  void programmed(std::chrono::steady_clock::duration latency) override;

  void add_scraped(ScrapedFamily family);

  // Every family in Prometheus's text exposition format (version 0.0.4).
  std::string scrape() const;

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  mutable std::mutex scraped_mutex_;
  std::vector<ScrapedFamily> scraped_;
};

}  // namespace podvs::agent
