// podvs-pktgen's receive accounting: latency percentiles, sampling, reordering, phases, pacing.
#include <gtest/gtest.h>

#include <vector>

#include "perf/pktgen/frame.h"
#include "perf/pktgen/latency.h"
#include "perf/pktgen/pacer.h"
#include "perf/pktgen/rx_stats.h"

namespace podvs::pktgen {
namespace {

TEST(PktgenLatency, NearestRankPercentiles) {
  std::vector<uint32_t> v;
  for (uint32_t i = 1; i <= 1000; ++i) v.push_back(i);
  EXPECT_EQ(percentile(v, 50), 500u);
  EXPECT_EQ(percentile(v, 99), 990u);
  EXPECT_EQ(percentile(v, 99.9), 999u);
  EXPECT_EQ(percentile(v, 100), 1000u);
  EXPECT_EQ(percentile(std::vector<uint32_t>{7}, 99.9), 7u);
  EXPECT_EQ(percentile(std::vector<uint32_t>{}, 50), 0u);
}

TEST(PktgenLatency, SamplesEveryNthAndSortsInMicroseconds) {
  LatencySamples s(4, 3);
  // Every third value is kept: 3000, 6000, 9000, 12000; the fifth sample finds the array full.
  for (uint32_t i = 1; i <= 15; ++i) s.add(i * 1000);
  const LatencySummary r = s.summarize(1e9);  // 1 GHz: 1000 cycles = 1 us
  EXPECT_EQ(r.samples, 4u);
  EXPECT_EQ(r.not_stored, 1u);
  EXPECT_DOUBLE_EQ(r.min_us, 3);
  EXPECT_DOUBLE_EQ(r.p50_us, 6);
  EXPECT_DOUBLE_EQ(r.p99_us, 12);
  EXPECT_DOUBLE_EQ(r.max_us, 12);
}

class PktgenRxStats : public ::testing::Test {
 protected:
  void receive(uint32_t flow, uint32_t seq, bool measured = true, uint32_t tsc = 0,
               uint32_t now = 100) {
    FrameSpec spec;
    const FlowTemplate t = make_template(spec, {0x0a000001, 0x0a000002, 1, 2}, flow);
    std::vector<uint8_t> frame(60, 0);
    write_frame(frame.data(), t, L4::udp, measured ? kMagicMeasured : kMagicWarmup, seq, tsc);
    stats.account(frame.data(), 60, now);
  }
  RxStats stats{4, 1000, 1};
};

TEST_F(PktgenRxStats, CountsBackwardsSequenceNumbersPerFlow) {
  for (uint32_t seq : {0, 1, 3, 2, 4}) receive(0, seq);  // 2 arrives after 3
  for (uint32_t seq : {0, 1, 2}) receive(1, seq);        // other flow in order
  receive(2, 5);                                         // gap: loss, not reordering
  EXPECT_EQ(stats.counters().measured, 9u);
  EXPECT_EQ(stats.counters().reordered, 1u);
}

TEST_F(PktgenRxStats, SequenceWrapIsNotReordering) {
  receive(0, 0);
  receive(0, 0x7fffffff);  // forward jumps (losses) of less than half the space
  receive(0, 0xfffffffe);
  receive(0, 0xffffffff);
  receive(0, 0);
  receive(0, 1);
  EXPECT_EQ(stats.counters().reordered, 0u);
  receive(0, 0xffffffff);
  EXPECT_EQ(stats.counters().reordered, 1u);
}

TEST_F(PktgenRxStats, WarmupIsTrackedButNotCounted) {
  receive(0, 0, false);
  receive(0, 1, false);
  receive(0, 0, true);  // behind the warm-up packets: reordered
  receive(0, 2, true, 10, 60);
  EXPECT_EQ(stats.counters().warmup, 2u);
  EXPECT_EQ(stats.counters().measured, 2u);
  EXPECT_EQ(stats.counters().measured_bytes, 120u);
  EXPECT_EQ(stats.counters().reordered, 1u);
}

TEST_F(PktgenRxStats, LatencyIsTimestampDifferenceAcrossTscWrap) {
  receive(0, 0, true, 0xfffffff0, 0x10);                    // the low 32 TSC bits wrapped in flight
  const LatencySummary r = stats.latency().summarize(1e6);  // 1 cycle = 1 us
  EXPECT_EQ(r.samples, 1u);
  EXPECT_DOUBLE_EQ(r.p50_us, 32);
}

TEST_F(PktgenRxStats, ForeignAndUnknownFlowFrames) {
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08, arp[13] = 0x06;
  stats.account(arp.data(), 60, 0);
  receive(4, 0);  // flow index beyond the 4 flows of this run
  EXPECT_EQ(stats.counters().foreign, 1u);
  EXPECT_EQ(stats.counters().bad_flow, 1u);
  EXPECT_EQ(stats.counters().measured, 0u);
}

TEST(PktgenPacer, FollowsTheRateOneBurstAtATime) {
  Pacer p(0.01, 1000);  // one packet per 100 cycles
  EXPECT_EQ(p.allowance(1000, 32), 0u);
  EXPECT_EQ(p.allowance(1000 + 550, 32), 5u);
  p.issued(5);
  EXPECT_EQ(p.allowance(1000 + 599, 32), 0u);
  EXPECT_EQ(p.allowance(1000 + 600, 32), 1u);
  EXPECT_EQ(p.allowance(1000 + 100'000, 32), 32u);  // late: catch up a burst at a time
  Pacer unpaced(0, 1000);
  EXPECT_EQ(unpaced.allowance(0, 32), 32u);
}

}  // namespace
}  // namespace podvs::pktgen
