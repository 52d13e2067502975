#include "control/server/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <map>
#include <stdexcept>

#include "control/api/grpc_code_name.h"

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
    const Result<NodeStatus> node = control_.status();
    if (!stats.is_ok() || !pods.is_ok() || !node.is_ok()) return {};
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
      f.add("podvs_worker_busy_cycles_total", "TSC cycles of polls that found work.",
            MetricType::Counter, labels, w.busy_cycles);
      f.add("podvs_worker_idle_cycles_total", "TSC cycles of empty polls and idle sleeps.",
            MetricType::Counter, labels, w.idle_cycles);
      f.add("podvs_worker_rx_bursts_total",
            "Non-empty receive bursts (packets per burst = rx packets / bursts).",
            MetricType::Counter, labels, w.rx_bursts);
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
      f.add("podvs_conntrack_entries", "Connections the worker tracks (masquerade, Services).",
            MetricType::Gauge, labels, w.conntrack_entries);
      f.add("podvs_conntrack_created_total", "Connections the worker started tracking.",
            MetricType::Counter, labels, w.conntrack_created);
      f.add("podvs_conntrack_expired_total", "Tracked connections removed by aging.",
            MetricType::Counter, labels, w.conntrack_expired);
      f.add("podvs_service_affinity_full_total",
            "Service connections whose ClientIP affinity the full table could not remember.",
            MetricType::Counter, labels, w.affinity_full);
    }
    f.add("podvs_pods", "Pods attached to the switch.", MetricType::Gauge, {},
          static_cast<double>(pods.value->size()));
    f.add("podvs_pod_addresses_used", "Pod CIDR addresses held by pods.", MetricType::Gauge, {},
          static_cast<double>(node.value->addresses_used));
    f.add("podvs_pod_addresses", "Usable addresses in the pod CIDR.", MetricType::Gauge, {},
          static_cast<double>(node.value->addresses_total));
    f.add("podvs_ports_used", "Ports in use (pods, the host port, the uplink).", MetricType::Gauge, {},
          node.value->ports_used);
    f.add("podvs_ports", "Port capacity (max_ports).", MetricType::Gauge, {},
          node.value->ports_max);
    f.add("podvs_pods_max", "Pods this node takes: max_pods or the pod CIDR's addresses.",
          MetricType::Gauge, {{"bound", node.value->pods_bound}},
          static_cast<double>(node.value->pods_max));
    f.add("podvs_info", "podvsd build and node facts (value 1).", MetricType::Gauge,
          {{"version", node.value->version}, {"pod_cidr", node.value->pod_cidr}}, 1);
    for (const AgentSeen& agent : node.value->agents) {
      const std::string& name = agent.report.name;
      f.add("podvs_agent_report_age_seconds",
            "Seconds since the agent (podvs-agent) last reported to podvsd (ReportAgent).",
            MetricType::Gauge, {{"agent", name}}, agent.report_age_s);
      f.add("podvs_agent_synced", "Whether the agent's informers have synced (1) or not (0).",
            MetricType::Gauge, {{"agent", name}}, agent.report.synced ? 1 : 0);
      f.add("podvs_agent_last_sync_timestamp_seconds",
            "Unix time of the agent's last full sync (0: never).", MetricType::Gauge,
            {{"agent", name}}, static_cast<double>(agent.report.last_sync_unix_s));
    }
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
    : collector_(std::make_shared<MetricsCollector>(control)),
      registry_(std::make_shared<prometheus::Registry>()),
      api_requests_(&prometheus::BuildCounter()
                         .Name("podvs_grpc_requests_total")
                         .Help("API calls, by method and gRPC status code.")
                         .Register(*registry_)),
      api_latency_(&prometheus::BuildHistogram()
                        .Name("podvs_grpc_request_duration_seconds")
                        .Help("API call latency, by method.")
                        .Register(*registry_)) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + listen + ": " + e.what());
  }
  exposer_->RegisterCollectable(collector_);
  exposer_->RegisterCollectable(registry_);
}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::observe_api_call(const char* rpc, int grpc_status_code, double seconds) {
  // From 100 µs (a list) to 10 s (an add whose pod namespace hangs).
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  api_requests_->Add({{"method", rpc}, {"code", grpc_code_name(grpc_status_code)}}).Increment();
  api_latency_->Add({{"method", rpc}}, kBuckets).Observe(seconds);
}

}  // namespace podvs
