// Prometheus endpoint: on each scrape it asks the control plane for one consistent snapshot of
// the counters and renders it. Workers are never touched by a scrape (they only write their own
// counters), so scraping cannot slow the data path.
#pragma once

#include <memory>
#include <string>

#include "control/control_plane.h"

namespace prometheus {
class Exposer;
}

namespace podvs {

class MetricsCollector;

class MetricsExporter {
 public:
  // Listens on `listen` ("host:port"); throws std::runtime_error naming the address on failure.
  MetricsExporter(ControlPlane& control, const std::string& listen);
  ~MetricsExporter();

 private:
  std::shared_ptr<MetricsCollector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace podvs
