#include "perf/pktgen/latency.h"

#include <algorithm>
#include <cmath>

namespace podvs::pktgen {

uint32_t percentile(std::span<const uint32_t> sorted, double p) {
  if (sorted.empty()) return 0;
  // The small slack keeps binary rounding (99.9 % of 1000 = 999.0000000000001) off the next rank.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9);
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

LatencySamples::LatencySamples(uint64_t capacity, uint64_t every)
    : samples_(new uint32_t[capacity]),
      capacity_(capacity),
      every_(std::max<uint64_t>(every, 1)),
      countdown_(every_) {}

LatencySummary LatencySamples::summarize(double tsc_hz) {
  std::span<uint32_t> s(samples_.get(), count_);
  std::sort(s.begin(), s.end());
  const auto us = [tsc_hz](uint32_t cycles) { return cycles * 1e6 / tsc_hz; };
  LatencySummary r;
  r.samples = count_;
  r.not_stored = not_stored_;
  if (s.empty()) return r;
  r.min_us = us(s.front());
  r.max_us = us(s.back());
  r.p50_us = us(percentile(s, 50));
  r.p99_us = us(percentile(s, 99));
  r.p999_us = us(percentile(s, 99.9));
  return r;
}

}  // namespace podvs::pktgen
