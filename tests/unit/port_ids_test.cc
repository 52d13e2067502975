// podvs's own port ids: lowest free first, never twice, bounded by the capacity, reused after
// release.
#include "ports/port_ids.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace podvs::test {
namespace {

TEST(PortIds, HandsOutTheLowestFreeIdUpToTheCapacity) {
  PortIds ids(3);
  EXPECT_EQ(ids.allocate(), PortId{0});
  EXPECT_EQ(ids.allocate(), PortId{1});
  EXPECT_EQ(ids.allocate(), PortId{2});
  EXPECT_EQ(ids.allocate(), std::nullopt) << "all three are in use";
  EXPECT_EQ(ids.in_use(), 3);
}

TEST(PortIds, ReleasedIdsComeBackLowestFirst) {
  PortIds ids(8);
  for (int i = 0; i < 8; ++i) ids.allocate();
  EXPECT_TRUE(ids.release(5));
  EXPECT_TRUE(ids.release(2));
  EXPECT_EQ(ids.in_use(), 6);
  EXPECT_EQ(ids.allocate(), PortId{2});
  EXPECT_EQ(ids.allocate(), PortId{5});
  EXPECT_EQ(ids.allocate(), std::nullopt);
}

TEST(PortIds, ReleasingAFreeOrOutOfRangeIdChangesNothing) {
  PortIds ids(4);
  EXPECT_EQ(ids.allocate(), PortId{0});
  EXPECT_FALSE(ids.release(1)) << "never handed out";
  EXPECT_FALSE(ids.release(4)) << "beyond the capacity";
  EXPECT_FALSE(ids.release(kNoPort));
  EXPECT_TRUE(ids.release(0));
  EXPECT_FALSE(ids.release(0)) << "already free";
  EXPECT_EQ(ids.in_use(), 0);
  EXPECT_EQ(ids.allocate(), PortId{0});
}

TEST(PortIds, TheDefaultCapacityHoldsMorePortsThanDpdkHasEthdevs) {
  PortIds ids(kDefaultPortCapacity);
  for (uint16_t i = 0; i < kDefaultPortCapacity; ++i) ASSERT_EQ(ids.allocate(), PortId{i});
  EXPECT_EQ(ids.allocate(), std::nullopt);
  EXPECT_EQ(ids.capacity(), kDefaultPortCapacity);
}

TEST(PortIds, RefusesACapacityItCannotIndex) {
  EXPECT_THROW(PortIds(0), std::invalid_argument);
  EXPECT_THROW(PortIds(kMaxPortCapacity + 1), std::invalid_argument);
}

}  // namespace
}  // namespace podvs::test
