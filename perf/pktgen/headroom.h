// The generator's own headroom over the measured window: how much of its loop's time went to
// iterations that found nothing to do (nothing sent, because the switch had not yet freed ring
// slots or the pacer said wait, and nothing received). A benchmark row means something only when
// this share is large enough: a generator with no idle time may be the bottleneck itself.
//
// An iteration that took far longer than any iteration can (the thread was descheduled, or the
// hypervisor took the CPU) counts as stalled, neither busy nor idle: the time was lost, not spare.
// Owned by one loop; read after that loop has finished.
#pragma once

#include <cstdint>

namespace podvs::pktgen {

struct HeadroomCounters {
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  uint64_t stalled_cycles = 0;
  uint64_t iterations = 0;
  uint64_t idle_iterations = 0;
  uint64_t stalls = 0;

  uint64_t total_cycles() const { return busy_cycles + idle_cycles + stalled_cycles; }
  double share_pct(uint64_t part) const {
    const uint64_t total = total_cycles();
    return total == 0 ? 0 : 100.0 * static_cast<double>(part) / static_cast<double>(total);
  }
  double idle_pct() const { return share_pct(idle_cycles); }
  double stalled_pct() const { return share_pct(stalled_cycles); }
};

class HeadroomMeter {
 public:
  // Iterations that start in [window_start, window_end) count. `stall_cycles`: an iteration at
  // least this long was interrupted.
  HeadroomMeter(uint64_t window_start, uint64_t window_end, uint64_t stall_cycles)
      : start_(window_start), end_(window_end), stall_(stall_cycles) {}

  // One loop iteration that began at `begin` and ended at `end`; `worked`: it sent or received.
  void iteration(uint64_t begin, uint64_t end, bool worked) {
    if (begin < start_ || begin >= end_ || end < begin) return;
    const uint64_t cycles = end - begin;
    ++c_.iterations;
    if (cycles >= stall_) {
      ++c_.stalls;
      c_.stalled_cycles += cycles;
    } else if (worked) {
      c_.busy_cycles += cycles;
    } else {
      ++c_.idle_iterations;
      c_.idle_cycles += cycles;
    }
  }

  const HeadroomCounters& counters() const { return c_; }

 private:
  uint64_t start_;
  uint64_t end_;
  uint64_t stall_;
  HeadroomCounters c_;
};

}  // namespace podvs::pktgen
