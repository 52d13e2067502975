// podvs-pktgen's headroom: the idle share of its loop over the measured window, stalls apart.
#include <gtest/gtest.h>

#include "perf/pktgen/headroom.h"

namespace podvs::pktgen {
namespace {

TEST(PktgenHeadroom, SplitsTheWindowIntoBusyIdleAndStalled) {
  HeadroomMeter m(1000, 2000, 100);
  m.iteration(1000, 1010, true);
  m.iteration(1010, 1040, false);
  m.iteration(1040, 1050, false);
  m.iteration(1050, 1250, true);  // 200 cycles: the thread lost its CPU
  const HeadroomCounters& c = m.counters();
  EXPECT_EQ(c.busy_cycles, 10u);
  EXPECT_EQ(c.idle_cycles, 40u);
  EXPECT_EQ(c.stalled_cycles, 200u);
  EXPECT_EQ(c.iterations, 4u);
  EXPECT_EQ(c.idle_iterations, 2u);
  EXPECT_EQ(c.stalls, 1u);
  EXPECT_DOUBLE_EQ(c.idle_pct(), 16);
  EXPECT_DOUBLE_EQ(c.stalled_pct(), 80);
}

TEST(PktgenHeadroom, CountsOnlyIterationsThatBeginInTheWindow) {
  HeadroomMeter m(1000, 2000, 100);
  m.iteration(900, 1001, false);   // warm-up
  m.iteration(1990, 2010, false);  // the last one of the window
  m.iteration(2010, 2020, false);  // drain
  EXPECT_EQ(m.counters().idle_cycles, 20u);
  EXPECT_EQ(m.counters().iterations, 1u);
}

TEST(PktgenHeadroom, AGeneratorThatNeverWaitsHasNoHeadroom) {
  HeadroomMeter m(0, 1000, 100);
  for (uint64_t t = 0; t < 1000; t += 10) m.iteration(t, t + 10, true);
  EXPECT_DOUBLE_EQ(m.counters().idle_pct(), 0);
  EXPECT_DOUBLE_EQ(HeadroomCounters{}.idle_pct(), 0);
}

}  // namespace
}  // namespace podvs::pktgen
