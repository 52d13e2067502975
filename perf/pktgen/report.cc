#include "perf/pktgen/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace podvs::pktgen {

namespace {

// Rates count frames with their FCS, as testpmd and most NIC counters do.
double gbps(uint64_t packets, uint32_t size, double seconds) {
  return seconds > 0 ? static_cast<double>(packets) * size * 8 / seconds / 1e9 : 0;
}
double mpps(uint64_t packets, double seconds) {
  return seconds > 0 ? static_cast<double>(packets) / seconds / 1e6 : 0;
}

std::string format_dst(const ExpectedDst& d) {
  return std::to_string(d.ip >> 24) + "." + std::to_string((d.ip >> 16) & 0xff) + "." +
         std::to_string((d.ip >> 8) & 0xff) + "." + std::to_string(d.ip & 0xff) + ":" +
         std::to_string(d.port_first) +
         (d.port_last != d.port_first ? "-" + std::to_string(d.port_last) : "");
}

// The generator's headroom is its busiest loop's: the least idle share, the most stalled one.
double least_idle_pct(const RunResult& r) {
  double least = r.headroom.empty() ? 0 : 100;
  for (const auto& [name, c] : r.headroom) least = std::min(least, c.idle_pct());
  return least;
}
double most_stalled_pct(const RunResult& r) {
  double most = 0;
  for (const auto& [name, c] : r.headroom) most = std::max(most, c.stalled_pct());
  return most;
}

nlohmann::json headroom_json(const RunResult& r, double hz) {
  nlohmann::json loops = nlohmann::json::object();
  for (const auto& [name, c] : r.headroom)
    loops[name] = {{"idle_pct", c.idle_pct()},
                   {"stalled_pct", c.stalled_pct()},
                   {"seconds", static_cast<double>(c.total_cycles()) / hz},
                   {"iterations", c.iterations},
                   {"idle_iterations", c.idle_iterations},
                   {"stalls", c.stalls}};
  return {{"idle_pct", least_idle_pct(r)}, {"stalled_pct", most_stalled_pct(r)}, {"loops", loops}};
}

}  // namespace

void print_report(const Options& o, const RunResult& r, std::ostream& out) {
  const auto loss = static_cast<int64_t>(r.tx.measured) - static_cast<int64_t>(r.rx.measured);
  const double loss_pct =
      r.tx.measured > 0 ? 100.0 * static_cast<double>(loss) / static_cast<double>(r.tx.measured)
                        : 0;
  const double tx_mpps = mpps(r.tx.measured, r.measured_s);
  const double rx_mpps = mpps(r.rx.measured, r.measured_s);
  // Bits on the wire: with VXLAN the outer headers count, as they would on a link.
  const double tx_gbps = gbps(r.tx.measured, o.tx_wire_size(), r.measured_s);
  const double rx_gbps = gbps(r.rx.measured, o.rx_wire_size(), r.measured_s);

  if (o.json) {
    nlohmann::json j = {
        {"size", o.size},
        {"flows", o.flows},
        {"proto", o.frame.proto == L4::udp ? "udp" : "tcp"},
        {"rate_mpps_requested", o.rate_mpps},
        {"duration_s", r.measured_s},
        {"warmup_s", o.warmup_s},
        {"lcore_mode", r.lcore_mode},
        {"stopped_early", r.stopped_early},
        {"tx_packets", r.tx.measured},
        {"rx_packets", r.rx.measured},
        {"loss", loss},
        {"loss_pct", loss_pct},
        {"reordered", r.rx.reordered},
        {"tx_mpps", tx_mpps},
        {"rx_mpps", rx_mpps},
        {"tx_gbps", tx_gbps},
        {"rx_gbps", rx_gbps},
        {"latency_us",
         {{"p50", r.latency.p50_us},
          {"p99", r.latency.p99_us},
          {"p99_9", r.latency.p999_us},
          {"min", r.latency.min_us},
          {"max", r.latency.max_us},
          {"samples", r.latency.samples},
          {"sample_every", r.latency_every}}},
        {"warmup_tx_packets", r.tx.warmup},
        {"warmup_rx_packets", r.rx.warmup},
        {"rx_foreign", r.rx.foreign},
        {"rx_bad_flow", r.rx.bad_flow},
        {"tx_port_rx", r.tx_port_received},
        {"tx_queue_full_polls", r.tx.queue_full},
        {"tx_alloc_failures", r.tx.alloc_failures},
        {"vxlan_tx", o.vxlan_tx},
        {"vxlan_rx", o.vxlan_rx},
        {"tx_wire_size", o.tx_wire_size()},
        {"rx_wire_size", o.rx_wire_size()},
        {"rx_not_vxlan", r.rx.not_vxlan},
        {"arp_received", r.arp.received},
        {"arp_answered", r.arp.answered},
        {"new_flows", o.new_flows},
        {"new_flows_exhausted", r.tx.new_flows_exhausted},
        {"expect_dst", o.expect_dst ? format_dst(*o.expect_dst) : ""},
        {"rx_wrong_dst", r.rx.wrong_dst},
        {"rx_bad_checksum", r.rx.bad_checksum},
        {"headroom", headroom_json(r, r.tsc_hz)},
    };
    out << j.dump() << "\n";
    return;
  }
  char line[256];
  out << "podvs-pktgen: " << o.size << " B " << (o.vxlan_tx ? "VXLAN-wrapped " : "")
      << (o.frame.proto == L4::udp ? "UDP" : "TCP") << ", " << o.flows << " flow(s), rate "
      << (o.rate_mpps > 0 ? std::to_string(o.rate_mpps) : "line") << ", lcores " << r.lcore_mode
      << (r.stopped_early ? ", STOPPED EARLY" : "") << "\n";
  std::snprintf(line, sizeof(line),
                "  measured   %.3f s (warm-up %.1f s: %lu sent, %lu received)\n", r.measured_s,
                o.warmup_s, r.tx.warmup, r.rx.warmup);
  out << line;
  std::snprintf(line, sizeof(line), "  tx         %lu packets  %.3f Mpps  %.3f Gbit/s\n",
                r.tx.measured, tx_mpps, tx_gbps);
  out << line;
  std::snprintf(line, sizeof(line), "  rx         %lu packets  %.3f Mpps  %.3f Gbit/s\n",
                r.rx.measured, rx_mpps, rx_gbps);
  out << line;
  std::snprintf(line, sizeof(line), "  loss       %ld (%.4f %%)  reordered %lu\n", loss, loss_pct,
                r.rx.reordered);
  out << line;
  std::snprintf(line, sizeof(line),
                "  latency us p50 %.2f  p99 %.2f  p99.9 %.2f  (min %.2f max %.2f, %lu samples)\n",
                r.latency.p50_us, r.latency.p99_us, r.latency.p999_us, r.latency.min_us,
                r.latency.max_us, r.latency.samples);
  out << line;
  std::snprintf(line, sizeof(line),
                "  other      rx foreign %lu  bad flow %lu  tx-port rx %lu  tx queue full %lu  "
                "alloc failures %lu\n",
                r.rx.foreign, r.rx.bad_flow, r.tx_port_received, r.tx.queue_full,
                r.tx.alloc_failures);
  out << line;
  std::snprintf(line, sizeof(line),
                "  headroom   generator idle %.1f %% of its core, stalled %.2f %%\n",
                least_idle_pct(r), most_stalled_pct(r));
  out << line;
  if (o.new_flows > 0 || o.expect_dst) {
    std::snprintf(line, sizeof(line),
                  "  nat        new flows %u%s  expect dst %s: wrong dst %lu  bad checksum %lu\n",
                  o.new_flows, r.tx.new_flows_exhausted ? " (all sent)" : "",
                  o.expect_dst ? format_dst(*o.expect_dst).c_str() : "-", r.rx.wrong_dst,
                  r.rx.bad_checksum);
    out << line;
  }
  if (o.vxlan_tx || o.vxlan_rx || o.answer_arp) {
    std::snprintf(line, sizeof(line),
                  "  vxlan      tx %s  rx %s (not VXLAN %lu)  arp received %lu  answered %lu\n",
                  o.vxlan_tx ? "on" : "off", o.vxlan_rx ? "on" : "off", r.rx.not_vxlan,
                  r.arp.received, r.arp.answered);
    out << line;
  }
}

}  // namespace podvs::pktgen
