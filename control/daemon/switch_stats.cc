// SwitchController's statistics: sums of the workers' counters minus the baselines.
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "control/daemon/switch_controller.h"

namespace podvs {
namespace {

// The non-zero reasons of `drops` (indexed by DropReason), by name, in the enum's order.
std::vector<DropCount> named_drops(const std::array<uint64_t, kNumDropReasons>& drops) {
  std::vector<DropCount> out;
  for (size_t r = 0; r < kNumDropReasons; ++r)
    if (drops[r] != 0)
      out.push_back({std::string(drop_reason_name(static_cast<DropReason>(r))), drops[r]});
  return out;
}

}  // namespace

SwitchController::PortTotals SwitchController::port_totals(PortId port_id) const {
  PortTotals t;
  for (const auto& w : workers_) {
    const PortCounters& c = w->counters().ports[port_id];
    t.rx_packets += c.rx_packets.get();
    t.rx_bytes += c.rx_bytes.get();
    t.tx_packets += c.tx_packets.get();
    t.tx_bytes += c.tx_bytes.get();
    for (size_t r = 0; r < kNumDropReasons; ++r) t.drops[r] += c.drops[r].get();
  }
  const PortTotals& b = port_base_[port_id];
  t.rx_packets -= b.rx_packets;
  t.rx_bytes -= b.rx_bytes;
  t.tx_packets -= b.tx_packets;
  t.tx_bytes -= b.tx_bytes;
  for (size_t r = 0; r < kNumDropReasons; ++r) t.drops[r] -= b.drops[r];
  return t;
}

SwitchController::WorkerTotals SwitchController::worker_totals(const Worker& worker) const {
  const WorkerCounters& c = worker.counters();
  WorkerTotals t{c.rx_packets.get(),  c.tx_packets.get(),      c.busy_cycles.get(),
                 c.idle_cycles.get(), c.flow_cache_hits.get(), c.flow_cache_misses.get(),
                 c.rx_bursts.get()};
  const WorkerTotals& b = worker_base_[worker.index()];
  t.rx_packets -= b.rx_packets;
  t.tx_packets -= b.tx_packets;
  t.busy_cycles -= b.busy_cycles;
  t.idle_cycles -= b.idle_cycles;
  t.cache_hits -= b.cache_hits;
  t.cache_misses -= b.cache_misses;
  t.rx_bursts -= b.rx_bursts;
  return t;
}

std::vector<PortStats> SwitchController::port_stats(
    std::array<uint64_t, kNumDropReasons>* drop_sum) const {
  std::vector<PortStats> out;
  auto add = [&](const PortHandle& h, const std::string& pod_id, std::vector<int> workers) {
    const PortTotals t = port_totals(h.port_id);
    PortStats s;
    s.name = h.dev_name;
    s.port_id = h.port_id;
    s.kind = h.kind;
    s.pod_id = pod_id;
    s.link = PortManager::link_up(h) ? "up" : "down";
    s.rx_packets = t.rx_packets;
    s.rx_bytes = t.rx_bytes;
    s.tx_packets = t.tx_packets;
    s.tx_bytes = t.tx_bytes;
    s.worker = workers.empty() ? -1 : workers[0];
    s.queue_workers = std::move(workers);
    s.drops = named_drops(t.drops);
    if (drop_sum != nullptr)
      for (size_t r = 0; r < kNumDropReasons; ++r) (*drop_sum)[r] += t.drops[r];
    out.push_back(std::move(s));
  };
  if (host_port_) add(*host_port_, "", host_workers_);
  if (uplink_port_) {
    add(*uplink_port_, "", uplink_workers_);
  }
  for (const auto& [id, pod] : pods_)
    if (pod.port) add(*pod.port, id, pod.workers);
  return out;
}

SwitchStats SwitchController::do_stats() const {
  SwitchStats s;
  s.tsc_hz = rte_get_tsc_hz();
  for (const auto& w : workers_) {
    const WorkerTotals t = worker_totals(*w);
    WorkerStats ws;
    ws.worker = w->index();
    ws.lcore = worker_lcores_[w->index()];
    ws.cpu = config_.worker_cpus[w->index()];
    ws.rx_packets = t.rx_packets;
    ws.tx_packets = t.tx_packets;
    ws.busy_cycles = t.busy_cycles;
    ws.idle_cycles = t.idle_cycles;
    ws.cycles_per_packet =
        t.rx_packets == 0 ? 0.0 : static_cast<double>(t.busy_cycles) / t.rx_packets;
    ws.rx_queues = w->rx_queue_count();
    ws.flow_cache_hits = t.cache_hits;
    ws.flow_cache_misses = t.cache_misses;
    ws.rx_bursts = t.rx_bursts;
    const WorkerCounters& c = w->counters();
    ws.conntrack_entries = c.conntrack_entries.get();
    ws.conntrack_created = c.conntrack_created.get();
    ws.conntrack_expired = c.conntrack_expired.get();
    ws.affinity_full = c.affinity_full.get();
    s.workers.push_back(ws);
  }
  std::array<uint64_t, kNumDropReasons> drops{};
  s.ports = port_stats(&drops);
  s.drops = named_drops(drops);
  s.mbufs_total = pool_->size;
  s.mbufs_in_use = rte_mempool_in_use_count(pool_);
  return s;
}

Result<SwitchStats> SwitchController::stats() {
  return on_control_thread<SwitchStats>([this] { return Result<SwitchStats>::ok(do_stats()); });
}

Result<Empty> SwitchController::clear_stats() {
  return on_control_thread<Empty>([this] {
    std::fill(port_base_.begin(), port_base_.end(), PortTotals{});
    for (PortId p = 0; p < port_base_.size(); ++p) port_base_[p] = port_totals(p);
    for (auto& b : worker_base_) b = {};
    for (const auto& w : workers_) worker_base_[w->index()] = worker_totals(*w);
    return Result<Empty>::ok({});
  });
}

Result<std::vector<RecentDrop>> SwitchController::recent_drops() {
  return on_control_thread<std::vector<RecentDrop>>([this] {
    // Records carry TSC stamps: convert through one (TSC, wall clock) pair taken now.
    const uint64_t tsc_now = rte_rdtsc();
    const auto wall_now = std::chrono::system_clock::now().time_since_epoch();
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wall_now).count();
    const double ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
    std::map<uint16_t, std::pair<std::string, std::string>> names;  // port id -> (port, pod)
    if (host_port_) names[host_port_->port_id] = {host_port_->dev_name, ""};
    for (const auto& [id, pod] : pods_)
      if (pod.port) names[pod.port->port_id] = {pod.port->dev_name, id};
    std::vector<RecentDrop> out;
    for (const auto& w : workers_) {
      for (const DropRecord& r : w->counters().recent_drops.snapshot()) {
        RecentDrop d;
        d.time_unix_ns = now_ns - static_cast<int64_t>((tsc_now - r.tsc) * ns_per_tsc);
        d.worker = w->index();
        auto it = names.find(r.port);
        d.port = it != names.end() ? it->second.first : "port " + std::to_string(r.port);
        if (it != names.end()) d.pod_id = it->second.second;
        d.reason = drop_reason_name(r.reason);
        d.length = r.length;
        d.headers.assign(reinterpret_cast<const char*>(r.bytes.data()), r.captured);
        out.push_back(std::move(d));
      }
    }
    std::sort(out.begin(), out.end(), [](const RecentDrop& a, const RecentDrop& b) {
      return a.time_unix_ns < b.time_unix_ns;
    });
    return Result<std::vector<RecentDrop>>::ok(std::move(out));
  });
}

Result<std::vector<PortStats>> SwitchController::list_ports() {
  return on_control_thread<std::vector<PortStats>>(
      [this] { return Result<std::vector<PortStats>>::ok(port_stats()); });
}

}  // namespace podvs
