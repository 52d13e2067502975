// ClientIP session affinity table: what a worker remembers per (client, frontend), for how long,
// and what happens when it is full. Times are TSC readings; the tests pick small round numbers.
#include "vswitch/services/affinity_table.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace podvs {
namespace {

constexpr uint32_t kWeb = 7;  // frontend ids
constexpr uint32_t kDns = 8;
constexpr uint64_t kTimeout = 1000;

rte_be32_t addr(uint32_t host_order) { return rte_cpu_to_be_32(host_order); }

const rte_be32_t kClient = addr(0x0af40002);  // 10.244.0.2
const rte_be32_t kOtherClient = addr(0x0af40003);
const rte_be32_t kBackend = addr(0x0af40105);  // 10.244.1.5
const rte_be32_t kOtherBackend = addr(0x0af40206);
constexpr rte_be16_t kPort = RTE_BE16(8080);

TEST(AffinityTable, RemembersPerClientAndFrontend) {
  AffinityTable t(64);
  EXPECT_FALSE(t.lookup(kClient, kWeb, 0));
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, 100, kTimeout));
  const auto e = t.lookup(kClient, kWeb, 200);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->client(), kClient);
  EXPECT_EQ(e->frontend(), kWeb);
  EXPECT_EQ(e->backend_ip(), kBackend);
  EXPECT_EQ(e->backend_port(), kPort);
  EXPECT_EQ(e->deadline(), 100 + kTimeout);
  EXPECT_FALSE(t.lookup(kClient, kDns, 200));
  EXPECT_FALSE(t.lookup(kOtherClient, kWeb, 200));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.capacity(), 64u);
}

TEST(AffinityTable, EntryHoldsUpToItsDeadlineAndNotAfter) {
  AffinityTable t(64);
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, 100, kTimeout));
  EXPECT_TRUE(t.lookup(kClient, kWeb, 100 + kTimeout));
  EXPECT_FALSE(t.lookup(kClient, kWeb, 100 + kTimeout + 1));
  // A lookup does not extend it: remember() does.
  EXPECT_FALSE(t.lookup(kClient, kWeb, 100 + kTimeout + 1));
}

TEST(AffinityTable, RememberRefreshesTheDeadlineAndTheBackend) {
  AffinityTable t(64);
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, 100, kTimeout));
  ASSERT_TRUE(t.remember(kClient, kWeb, kOtherBackend, RTE_BE16(9090), 900, kTimeout));
  EXPECT_EQ(t.size(), 1u);
  const auto e = t.lookup(kClient, kWeb, 1500);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->backend_ip(), kOtherBackend);
  EXPECT_EQ(e->backend_port(), RTE_BE16(9090));
  EXPECT_EQ(e->deadline(), 900 + kTimeout);
  // An expired entry of the same key is brought back, not duplicated.
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, 5000, kTimeout));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(kClient, kWeb, 5000)->backend_ip(), kBackend);
}

TEST(AffinityTable, DeadlineSaturatesInsteadOfWrapping) {
  AffinityTable t(64);
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, UINT64_MAX - 10, kTimeout));
  EXPECT_EQ(t.lookup(kClient, kWeb, UINT64_MAX)->deadline(), UINT64_MAX);
}

TEST(AffinityTable, ForgetRemovesOnlyThatEntry) {
  AffinityTable t(64);
  ASSERT_TRUE(t.remember(kClient, kWeb, kBackend, kPort, 0, kTimeout));
  ASSERT_TRUE(t.remember(kClient, kDns, kBackend, kPort, 0, kTimeout));
  t.forget(kClient, kWeb);
  t.forget(kOtherClient, kWeb);  // absent: nothing happens
  EXPECT_FALSE(t.lookup(kClient, kWeb, 0));
  EXPECT_TRUE(t.lookup(kClient, kDns, 0));
  EXPECT_EQ(t.size(), 1u);
  ASSERT_TRUE(t.remember(kClient, kWeb, kOtherBackend, kPort, 0, kTimeout));
  EXPECT_EQ(t.lookup(kClient, kWeb, 0)->backend_ip(), kOtherBackend);
}

TEST(AffinityTable, FullTableRefusesNewClientsButKeepsServingAndRefreshing) {
  // Capacity 4 gives two buckets, so every key's bucket pair is the whole index: reclaiming the
  // expired entries of its buckets reclaims every expired entry.
  AffinityTable t(4);
  for (uint32_t i = 0; i < 4; ++i)
    ASSERT_TRUE(t.remember(addr(0x0a000001 + i), kWeb, kBackend, kPort, 0, 100 * (i + 1)));
  EXPECT_FALSE(t.remember(kOtherClient, kWeb, kBackend, kPort, 50, kTimeout));
  EXPECT_EQ(t.size(), 4u);
  EXPECT_FALSE(t.lookup(kOtherClient, kWeb, 50));
  for (uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(t.lookup(addr(0x0a000001 + i), kWeb, 50));
  EXPECT_TRUE(t.remember(addr(0x0a000001), kWeb, kOtherBackend, kPort, 50, kTimeout));

  // At 250 the entry with deadline 200 is past; the one refreshed at 50 and those of 300 and
  // 400 are not: the new client takes the expired slot and the next one is refused again.
  EXPECT_TRUE(t.remember(kOtherClient, kWeb, kBackend, kPort, 250, kTimeout));
  EXPECT_EQ(t.size(), 4u);
  EXPECT_FALSE(t.lookup(addr(0x0a000002), kWeb, 250));
  EXPECT_FALSE(t.remember(addr(0x0b000001), kWeb, kBackend, kPort, 250, kTimeout));
}

TEST(AffinityTable, FillsToCapacityWithoutBucketOverflow) {
  constexpr uint32_t kCapacity = 100000;
  AffinityTable t(kCapacity);
  for (uint32_t i = 0; i < kCapacity; ++i)
    ASSERT_TRUE(t.remember(addr(0x0a000000 + i), i % 16, kBackend, kPort, 0, kTimeout)) << i;
  EXPECT_EQ(t.size(), kCapacity);
  EXPECT_FALSE(t.remember(kOtherClient, 99, kBackend, kPort, 0, kTimeout));
  for (uint32_t i = 0; i < kCapacity; ++i) {
    const auto e = t.lookup(addr(0x0a000000 + i), i % 16, 0);
    ASSERT_TRUE(e) << i;
    ASSERT_EQ(e->client(), addr(0x0a000000 + i));
  }
}

TEST(AffinityTable, ExpireAgesRoundRobinWithinItsBudget) {
  AffinityTable t(8);
  // Entry i (the i-th slot of the array) lives until 100 * i.
  for (uint32_t i = 0; i < 8; ++i)
    ASSERT_TRUE(t.remember(addr(0x0a000001 + i), kWeb, kBackend, kPort, 0, 100 * i));
  // At 350 entries 0..3 are past their deadline; a budget of 2 reaches only the first two.
  EXPECT_EQ(t.expire(350, 2), 2u);
  EXPECT_EQ(t.size(), 6u);
  EXPECT_EQ(t.expire(350, 4), 2u);  // entries 2..5: two expired
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.expire(350, 2), 0u);   // 6 and 7 live
  EXPECT_EQ(t.expire(1000, 8), 4u);  // a full pass from the start again sees everything
  EXPECT_EQ(t.size(), 0u);
  for (uint32_t i = 0; i < 8; ++i) EXPECT_FALSE(t.lookup(addr(0x0a000001 + i), kWeb, 0));
  // Expired slots are reusable.
  for (uint32_t i = 0; i < 8; ++i)
    EXPECT_TRUE(t.remember(addr(0x0b000001 + i), kWeb, kBackend, kPort, 1000, kTimeout));
}

TEST(AffinityTable, CapacityOutOfRangeIsRefused) {
  EXPECT_THROW(AffinityTable(0), std::invalid_argument);
  EXPECT_THROW(AffinityTable(AffinityTable::kMaxCapacity + 1), std::invalid_argument);
  try {
    AffinityTable t(0);
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "affinity table capacity must be between 1 and 16777216 entries, got 0");
  }
  AffinityTable one(1);
  EXPECT_TRUE(one.remember(kClient, kWeb, kBackend, kPort, 0, kTimeout));
  EXPECT_FALSE(one.remember(kOtherClient, kWeb, kBackend, kPort, 0, kTimeout));
}

}  // namespace
}  // namespace podvs
