// Receive-side accounting of one run: which frames are ours, in which phase they were sent,
// per-flow reordering and latency. Owned by the receive loop alone; read after that loop has ended.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "perf/pktgen/dst_check.h"
#include "perf/pktgen/frame.h"
#include "perf/pktgen/latency.h"
#include "perf/pktgen/vxlan.h"

namespace podvs::pktgen {

struct RxCounters {
  uint64_t measured = 0;        // ours, sent during the measurement
  uint64_t measured_bytes = 0;  // their frame lengths without FCS
  uint64_t warmup = 0;          // ours, sent during warm-up
  uint64_t foreign = 0;         // not ours (no magic), e.g. a switch's ARP or LLDP
  uint64_t bad_flow = 0;        // magic present but a flow index we never sent
  uint64_t reordered = 0;       // measured packets whose flow sequence number went backwards
  uint64_t not_vxlan = 0;       // with --vxlan-rx: not VXLAN to our port and VNI (an error)
  // With --expect-dst, ours (warm-up frames too) but not to that address and a port of its range,
  // or with a wrong IPv4 or L4 checksum: errors, not counted above.
  uint64_t wrong_dst = 0;
  uint64_t bad_checksum = 0;
};

// With --vxlan-rx, what a received frame must be: VXLAN to this UDP port with this VNI.
struct VxlanRx {
  uint16_t udp_port = kVxlanDefaultPort;
  uint32_t vni = 1;
};

class RxStats {
 public:
  // `vxlan`: received frames are VXLAN; the stamp is read from the inner frame. `expect_dst`:
  // frames (inner frames with VXLAN) must arrive translated to it (dst_check.h).
  RxStats(uint32_t flows, uint64_t latency_capacity, uint64_t latency_every,
          std::optional<VxlanRx> vxlan = std::nullopt,
          std::optional<ExpectedDst> expect_dst = std::nullopt);

  // One received frame; `now_tsc` is the low 32 bits of the TSC at receive time.
  void account(const uint8_t* frame, uint32_t len, uint32_t now_tsc) {
    if (vxlan_) {
      const auto inner = vxlan_inner_offset(frame, len, vxlan_->udp_port, vxlan_->vni);
      if (!inner) {
        ++counters_.not_vxlan;
        return;
      }
      frame += *inner;
      len -= *inner;
    }
    const auto stamp = read_stamp(frame, len);
    if (!stamp) {
      ++counters_.foreign;
      return;
    }
    if (expect_dst_) {
      switch (check_dst(frame, len, *expect_dst_)) {
        case DstCheck::ok:
          break;
        case DstCheck::wrong_dst:
          ++counters_.wrong_dst;
          return;
        case DstCheck::bad_checksum:
          ++counters_.bad_checksum;
          return;
      }
    }
    if (stamp->flow >= next_seq_.size()) {
      ++counters_.bad_flow;
      return;
    }
    // Serial-number comparison: a sequence number behind the next expected one went backwards
    // (a reordered or duplicated packet); a gap ahead of it is loss, counted elsewhere.
    uint32_t& next = next_seq_[stamp->flow];
    const bool backwards = static_cast<int32_t>(stamp->seq - next) < 0;
    if (!backwards) next = stamp->seq + 1;
    if (!stamp->measured) {
      ++counters_.warmup;
      return;
    }
    ++counters_.measured;
    counters_.measured_bytes += len;  // the inner frame's length with --vxlan-rx
    if (backwards) ++counters_.reordered;
    latency_.add(now_tsc - stamp->tsc);
  }

  const RxCounters& counters() const { return counters_; }
  LatencySamples& latency() { return latency_; }

 private:
  RxCounters counters_;
  std::vector<uint32_t> next_seq_;  // per flow; sequence numbers start at 0
  LatencySamples latency_;
  std::optional<VxlanRx> vxlan_;
  std::optional<ExpectedDst> expect_dst_;
};

}  // namespace podvs::pktgen
