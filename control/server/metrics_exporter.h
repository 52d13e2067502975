// Prometheus endpoint: on each scrape it asks the control plane for one consistent snapshot of
// the counters and renders it. Workers are never touched by a scrape (they only write their own
// counters), so scraping cannot slow the data path.
#pragma once

#include <memory>
#include <string>

#include "control/api/control_plane.h"

namespace prometheus {
class Exposer;
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace podvs {

class MetricsCollector;

class MetricsExporter {
 public:
  // Listens on `listen` ("host:port"); throws std::runtime_error naming the address on failure.
  MetricsExporter(ControlPlane& control, const std::string& listen);
  ~MetricsExporter();

  // Counts one API call and its latency; thread-safe (called from gRPC's threads).
  void observe_api_call(const char* rpc, int grpc_status_code, double seconds);

 private:
  std::shared_ptr<MetricsCollector> collector_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* api_requests_;
  prometheus::Family<prometheus::Histogram>* api_latency_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace podvs
