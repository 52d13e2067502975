// podvs-agent's HTTP endpoint (--metrics-listen): /metrics, the AgentMetrics in Prometheus's
// text format, and /healthz for a Kubernetes liveness probe (agent_health.h): 200 and "ok: ..."
// lines when healthy, 503 and the failed checks when not.
//
// It is CivetWeb (the HTTP server prometheus-cpp's own Exposer runs on) rather than the
// Exposer itself, because the Exposer serves only metrics and a liveness probe needs a status
// code. Requests are served on CivetWeb's threads; AgentMetrics::scrape() and the health check
// must be safe to call from them.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "control/agent/agent_health.h"
#include "control/agent/agent_metrics.h"

class CivetServer;

namespace podvs::agent {

class MetricsEndpoint {
 public:
  // Listens on `listen` ("127.0.0.1:9478"); throws std::runtime_error naming it on failure.
  MetricsEndpoint(const std::string& listen, const AgentMetrics& metrics,
                  std::function<Health()> health);
  ~MetricsEndpoint();

 private:
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace podvs::agent
