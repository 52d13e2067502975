#include "control/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <map>
#include <stdexcept>

namespace podvs {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class MetricsCollector : public prometheus::Collectable {
 public:
  explicit MetricsCollector(ControlPlane& control) : control_(control) {}

  std::vector<MetricFamily> Collect() const override {
    // An exception must not reach the HTTP server's thread: a failed scrape is an empty one.
    try {
      return collect();
    } catch (const std::exception&) {
      return {};
    }
  }

 private:
  std::vector<MetricFamily> collect() const {
    const Result<SwitchStats> stats = control_.stats();
    const Result<std::vector<PodInfo>> pods = control_.list_pods();
    if (!stats.is_ok() || !pods.is_ok()) return {};
    std::map<std::string, const PodInfo*> by_id;
    for (const PodInfo& p : *pods.value) by_id[p.spec.id] = &p;

    Families f;
    for (const PortStats& port : stats.value->ports) {
      std::vector<ClientMetric::Label> labels = {{"port", port.name}};
      if (auto it = by_id.find(port.pod_id); it != by_id.end()) {
        labels.push_back({"pod_id", port.pod_id});
        labels.push_back({"namespace", it->second->spec.k8s_namespace});
        labels.push_back({"pod", it->second->spec.k8s_name});
      }
      f.add("podvs_port_rx_packets_total", "Packets received on the port.", MetricType::Counter,
            labels, port.rx_packets);
      f.add("podvs_port_rx_bytes_total", "Bytes received on the port.", MetricType::Counter, labels,
            port.rx_bytes);
      f.add("podvs_port_tx_packets_total", "Packets sent on the port.", MetricType::Counter, labels,
            port.tx_packets);
      f.add("podvs_port_tx_bytes_total", "Bytes sent on the port.", MetricType::Counter, labels,
            port.tx_bytes);
      for (const DropCount& d : port.drops) {
        auto with_reason = labels;
        with_reason.push_back({"reason", d.reason});
        f.add("podvs_port_drops_total", "Packets dropped, by ingress port and reason.",
              MetricType::Counter, with_reason, d.packets);
      }
    }
    const double hz = static_cast<double>(stats.value->tsc_hz);
    for (const WorkerStats& w : stats.value->workers) {
      const std::vector<ClientMetric::Label> labels = {{"worker", std::to_string(w.worker)},
                                                       {"cpu", std::to_string(w.cpu)}};
      f.add("podvs_worker_rx_packets_total", "Packets received by the worker.", MetricType::Counter,
            labels, w.rx_packets);
      f.add("podvs_worker_busy_seconds_total", "Time the worker spent in polls that found work.",
            MetricType::Counter, labels, w.busy_cycles / hz);
      f.add("podvs_worker_idle_seconds_total", "Time the worker spent in empty polls.",
            MetricType::Counter, labels, w.idle_cycles / hz);
      f.add("podvs_worker_cycles_per_packet", "Busy TSC cycles per received packet.",
            MetricType::Gauge, labels, w.cycles_per_packet);
      f.add("podvs_worker_rx_queues", "Receive queues polled by the worker.", MetricType::Gauge,
            labels, w.rx_queues);
      f.add("podvs_flow_cache_hits_total", "Flow cache hits.", MetricType::Counter, labels,
            w.flow_cache_hits);
      f.add("podvs_flow_cache_misses_total", "Flow cache misses.", MetricType::Counter, labels,
            w.flow_cache_misses);
    }
    f.add("podvs_pods", "Pods attached to the switch.", MetricType::Gauge, {},
          static_cast<double>(pods.value->size()));
    f.add("podvs_mbufs_in_use", "Packet buffers currently allocated.", MetricType::Gauge, {},
          static_cast<double>(stats.value->mbufs_in_use));
    f.add("podvs_mbufs", "Packet buffers in the pool.", MetricType::Gauge, {},
          static_cast<double>(stats.value->mbufs_total));
    return f.take();
  }

  // Keeps one family per name, in first-seen order, as the exposition format requires.
  class Families {
   public:
    void add(const std::string& name, const std::string& help, MetricType type,
             std::vector<ClientMetric::Label> labels, double value) {
      auto it = index_.find(name);
      if (it == index_.end()) {
        it = index_.emplace(name, families_.size()).first;
        families_.push_back(MetricFamily{name, help, type, {}});
      }
      ClientMetric m;
      m.label = std::move(labels);
      if (type == MetricType::Counter)
        m.counter.value = value;
      else
        m.gauge.value = value;
      families_[it->second].metric.push_back(std::move(m));
    }
    std::vector<MetricFamily> take() { return std::move(families_); }

   private:
    std::map<std::string, size_t> index_;
    std::vector<MetricFamily> families_;
  };

  ControlPlane& control_;
};

MetricsExporter::MetricsExporter(ControlPlane& control, const std::string& listen)
    : collector_(std::make_shared<MetricsCollector>(control)) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + listen + ": " + e.what());
  }
  exposer_->RegisterCollectable(collector_);
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace podvs
