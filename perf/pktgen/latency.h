// Latency samples: a preallocated array filled with every Nth measured packet's latency (in TSC
// cycles), sorted once at the end of the run. Owned by the receive loop alone.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace podvs::pktgen {

struct LatencySummary {
  uint64_t samples = 0;
  uint64_t not_stored = 0;  // sampled after the array was full
  double min_us = 0, p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

// Nearest-rank percentile (0 < p <= 100) of an ascending array; 0 for an empty one.
uint32_t percentile(std::span<const uint32_t> sorted, double p);

class LatencySamples {
 public:
  LatencySamples(uint64_t capacity, uint64_t every);

  void add(uint32_t cycles) {
    if (--countdown_ != 0) return;
    countdown_ = every_;
    if (count_ < capacity_)
      samples_[count_++] = cycles;
    else
      ++not_stored_;
  }

  uint64_t every() const { return every_; }

  // Sorts the samples; call once, after the run.
  LatencySummary summarize(double tsc_hz);

 private:
  std::unique_ptr<uint32_t[]> samples_;
  uint64_t capacity_;
  uint64_t every_;
  uint64_t countdown_;
  uint64_t count_ = 0;
  uint64_t not_stored_ = 0;
};

}  // namespace podvs::pktgen
