// TSC pacing: how many packets may be sent now so that the count since `start` follows the rate.
// A late sender catches up one burst at a time, so the average rate holds over the run.
#pragma once

#include <algorithm>
#include <cstdint>

namespace podvs::pktgen {

class Pacer {
 public:
  // pkts_per_cycle 0 means unpaced: every call allows a full burst.
  Pacer(double pkts_per_cycle, uint64_t start_tsc)
      : pkts_per_cycle_(pkts_per_cycle), start_(start_tsc) {}

  uint32_t allowance(uint64_t now, uint32_t burst) const {
    if (pkts_per_cycle_ <= 0) return burst;
    if (now <= start_) return 0;
    const auto due = static_cast<uint64_t>(static_cast<double>(now - start_) * pkts_per_cycle_);
    return due <= issued_ ? 0 : static_cast<uint32_t>(std::min<uint64_t>(due - issued_, burst));
  }
  void issued(uint32_t n) { issued_ += n; }

 private:
  double pkts_per_cycle_;
  uint64_t start_;
  uint64_t issued_ = 0;
};

}  // namespace podvs::pktgen
