#include "perf/pktgen/flows.h"

#include <algorithm>

namespace podvs::pktgen {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

}  // namespace

std::string FlowSet::init(const FlowRanges& ranges, uint32_t flows) {
  if (flows == 0) return "--flows must be at least 1";
  if (ranges.dst_port_count == 0 || ranges.src_ip_count == 0 || ranges.dst_ip_count == 0)
    return "--dst-port-count, --src-ip-count and --dst-ip-count must be at least 1";
  if (uint64_t{ranges.dst_port} + ranges.dst_port_count > 65536)
    return "--dst-port plus --dst-port-count runs past port 65535";
  if (uint64_t{ranges.src_port} + ranges.src_port_count > 65536)
    return "--src-port plus --src-port-count runs past port 65535";
  if (uint64_t{ranges.src_ip} + ranges.src_ip_count > (uint64_t{1} << 32) ||
      uint64_t{ranges.dst_ip} + ranges.dst_ip_count > (uint64_t{1} << 32))
    return "--src-ip-count or --dst-ip-count runs past 255.255.255.255";
  ranges_ = ranges;
  flows_ = flows;

  // Each field takes as few values as it can, fastest first.
  uint64_t left = flows;
  const uint64_t sports = ranges.src_port_count != 0 ? ranges.src_port_count : 65536 - ranges.src_port;
  n_sport_ = static_cast<uint32_t>(std::min<uint64_t>(left, sports));
  left = ceil_div(left, n_sport_);
  n_dport_ = static_cast<uint32_t>(std::min<uint64_t>(left, ranges.dst_port_count));
  left = ceil_div(left, n_dport_);
  n_sip_ = static_cast<uint32_t>(std::min<uint64_t>(left, ranges.src_ip_count));
  left = ceil_div(left, n_sip_);
  n_dip_ = static_cast<uint32_t>(std::min<uint64_t>(left, ranges.dst_ip_count));
  left = ceil_div(left, n_dip_);
  if (left > 1) {
    return "--flows " + std::to_string(flows) +
           " needs more distinct tuples than the ranges give (" +
           std::to_string(uint64_t{n_sport_} * n_dport_ * n_sip_ * n_dip_) +
           "): raise --dst-port-count, --src-ip-count or --dst-ip-count";
  }
  return {};
}

FlowTuple FlowSet::tuple(uint32_t flow) const {
  FlowTuple t;
  t.src_port = static_cast<uint16_t>(ranges_.src_port + flow % n_sport_);
  flow /= n_sport_;
  t.dst_port = static_cast<uint16_t>(ranges_.dst_port + flow % n_dport_);
  flow /= n_dport_;
  t.src_ip = ranges_.src_ip + flow % n_sip_;
  flow /= n_sip_;
  t.dst_ip = ranges_.dst_ip + flow;
  return t;
}

}  // namespace podvs::pktgen
