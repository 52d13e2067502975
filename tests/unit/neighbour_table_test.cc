// Next-hop resolution on a clock the test drives: every state transition, the request schedule
// tick() asks for, capacity, and that unsolicited ARP never gets in.
#include "overlay/neighbour_table.h"

#include <gtest/gtest.h>

#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

using std::chrono::milliseconds;

NeighbourClock::time_point at_ms(int64_t ms) {
  return NeighbourClock::time_point{} + milliseconds(ms);
}

MacAddr mac_of(const std::string& text) { return *MacAddr::parse(text); }

const Ipv4 kHopA = ip("192.168.1.1");
const Ipv4 kHopB = ip("192.168.1.2");
const Ipv4 kHopC = ip("192.168.1.3");
const MacAddr kMac1 = mac_of("52:54:00:00:00:01");
const MacAddr kMac2 = mac_of("52:54:00:00:00:02");

using Requests = std::vector<Ipv4>;

std::string state_of(const NeighbourTable& t, Ipv4 hop, int64_t now_ms) {
  for (const NeighbourEntry& e : t.entries(at_ms(now_ms)))
    if (e.ip == hop) return e.state;
  return "absent";
}

// A table with kHopA resolved to kMac1 at t = 0, changes already reported.
NeighbourTable resolved_at_zero() {
  NeighbourTable t;
  EXPECT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.tick(at_ms(0)).arp_requests, Requests{kHopA});
  EXPECT_TRUE(t.on_arp(kHopA, kMac1, at_ms(0)));
  EXPECT_TRUE(t.tick(at_ms(0)).macs_changed);
  return t;
}

TEST(NeighbourTable, WantCreatesIncompleteAndAsksAtOnce) {
  NeighbourTable t;
  EXPECT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  EXPECT_EQ(state_of(t, kHopA, 0), "INCOMPLETE");
  EXPECT_EQ(t.lookup(kHopA), std::nullopt);
  const NeighbourActions a = t.tick(at_ms(0));
  EXPECT_EQ(a.arp_requests, Requests{kHopA});
  EXPECT_FALSE(a.macs_changed);
}

TEST(NeighbourTable, IncompleteAsksThreeTimesOneSecondApartThenFails) {
  NeighbourTable t;
  ASSERT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.tick(at_ms(0)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(999)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(1000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(2000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(state_of(t, kHopA, 2999), "INCOMPLETE");
  const NeighbourActions a = t.tick(at_ms(3000));
  EXPECT_EQ(a.arp_requests, Requests{});  // three requests were the budget
  EXPECT_FALSE(a.macs_changed);           // it never had a MAC
  EXPECT_EQ(state_of(t, kHopA, 3000), "FAILED");
  EXPECT_EQ(t.lookup(kHopA), std::nullopt);
}

TEST(NeighbourTable, FailedAsksAgainEveryTenSeconds) {
  NeighbourTable t;
  ASSERT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  for (int64_t ms : {0, 1000, 2000, 3000}) t.tick(at_ms(ms));
  ASSERT_EQ(state_of(t, kHopA, 3000), "FAILED");
  EXPECT_EQ(t.tick(at_ms(12999)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(13000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(state_of(t, kHopA, 13000), "FAILED");
  EXPECT_EQ(t.tick(at_ms(14000)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(23000)).arp_requests, Requests{kHopA});
}

TEST(NeighbourTable, AnswerMakesReachableAndIsReportedOnce) {
  NeighbourTable t;
  ASSERT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  t.tick(at_ms(0));
  EXPECT_TRUE(t.on_arp(kHopA, kMac1, at_ms(500)));
  EXPECT_EQ(t.lookup(kHopA), kMac1);
  EXPECT_EQ(state_of(t, kHopA, 500), "REACHABLE");
  const NeighbourActions first = t.tick(at_ms(500));
  EXPECT_TRUE(first.macs_changed);
  EXPECT_EQ(first.arp_requests, Requests{});
  const NeighbourActions second = t.tick(at_ms(1500));
  EXPECT_FALSE(second.macs_changed);
  EXPECT_EQ(second.arp_requests, Requests{});  // no retry once answered
}

TEST(NeighbourTable, FailedEntryRecoversOnAnswer) {
  NeighbourTable t;
  ASSERT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  for (int64_t ms : {0, 1000, 2000, 3000}) t.tick(at_ms(ms));
  ASSERT_EQ(state_of(t, kHopA, 3000), "FAILED");
  EXPECT_TRUE(t.on_arp(kHopA, kMac1, at_ms(13100)));
  EXPECT_EQ(state_of(t, kHopA, 13100), "REACHABLE");
  EXPECT_EQ(t.lookup(kHopA), kMac1);
  EXPECT_TRUE(t.tick(at_ms(13100)).macs_changed);
}

TEST(NeighbourTable, ReachableTurnsStaleAfterReachableTimeAndKeepsItsMac) {
  NeighbourTable t = resolved_at_zero();
  EXPECT_EQ(t.tick(at_ms(29999)).arp_requests, Requests{});
  EXPECT_EQ(state_of(t, kHopA, 29999), "REACHABLE");
  const NeighbourActions a = t.tick(at_ms(30000));
  EXPECT_EQ(a.arp_requests, Requests{kHopA});  // the refresh request goes out at once
  EXPECT_FALSE(a.macs_changed);
  EXPECT_EQ(state_of(t, kHopA, 30000), "STALE");
  EXPECT_EQ(t.lookup(kHopA), kMac1);
}

TEST(NeighbourTable, StaleFailsAfterThreeUnansweredProbesAndDropsItsMac) {
  NeighbourTable t = resolved_at_zero();
  EXPECT_EQ(t.tick(at_ms(30000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(30999)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(31000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(32000)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.lookup(kHopA), kMac1);
  const NeighbourActions a = t.tick(at_ms(33000));
  EXPECT_EQ(a.arp_requests, Requests{});
  EXPECT_TRUE(a.macs_changed);
  EXPECT_EQ(state_of(t, kHopA, 33000), "FAILED");
  EXPECT_EQ(t.lookup(kHopA), std::nullopt);
  EXPECT_EQ(t.tick(at_ms(43000)).arp_requests, Requests{kHopA});
}

TEST(NeighbourTable, StaleAnsweredIsReachableAgainWithAFreshTimer) {
  NeighbourTable t = resolved_at_zero();
  t.tick(at_ms(30000));
  EXPECT_TRUE(t.on_arp(kHopA, kMac1, at_ms(30500)));
  EXPECT_EQ(state_of(t, kHopA, 30500), "REACHABLE");
  EXPECT_FALSE(t.tick(at_ms(30500)).macs_changed);  // same MAC: nothing to republish
  EXPECT_EQ(t.tick(at_ms(60499)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(60500)).arp_requests, Requests{kHopA});
}

TEST(NeighbourTable, UnsolicitedArpCreatesNothing) {
  NeighbourTable t;
  EXPECT_FALSE(t.on_arp(kHopB, kMac2, at_ms(0)));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.lookup(kHopB), std::nullopt);
  EXPECT_FALSE(t.tick(at_ms(0)).macs_changed);
}

TEST(NeighbourTable, GratuitousArpReplacesTheMacOfAnExistingEntry) {
  NeighbourTable t = resolved_at_zero();
  EXPECT_TRUE(t.on_arp(kHopA, kMac2, at_ms(5000)));
  EXPECT_EQ(t.lookup(kHopA), kMac2);
  EXPECT_TRUE(t.tick(at_ms(5000)).macs_changed);
}

TEST(NeighbourTable, ForgetRemovesAndReportsALostMac) {
  NeighbourTable t = resolved_at_zero();
  ASSERT_EQ(t.want(kHopB, at_ms(0)), std::nullopt);
  EXPECT_TRUE(t.forget(kHopA));
  EXPECT_FALSE(t.forget(kHopA));
  EXPECT_EQ(t.lookup(kHopA), std::nullopt);
  EXPECT_TRUE(t.tick(at_ms(1)).macs_changed);
  EXPECT_TRUE(t.forget(kHopB));  // never resolved: no MAC lost
  EXPECT_FALSE(t.tick(at_ms(2)).macs_changed);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.on_arp(kHopA, kMac1, at_ms(3)));  // forgotten means unsolicited again
}

TEST(NeighbourTable, WantingAgainChangesNothing) {
  NeighbourTable t = resolved_at_zero();
  EXPECT_EQ(t.want(kHopA, at_ms(100)), std::nullopt);
  EXPECT_EQ(state_of(t, kHopA, 100), "REACHABLE");
  EXPECT_EQ(t.lookup(kHopA), kMac1);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.tick(at_ms(100)).arp_requests, Requests{});
}

TEST(NeighbourTable, FullTableRefusesNewNextHopsWithAReason) {
  NeighbourTable t({}, 2);
  EXPECT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.want(kHopB, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.want(kHopC, at_ms(0)),
            "cannot resolve next hop 192.168.1.3: the neighbour table already tracks 2 next hops "
            "(its capacity); forget the next hops no remote node uses");
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);  // already tracked: no new slot needed
  ASSERT_TRUE(t.forget(kHopA));
  EXPECT_EQ(t.want(kHopC, at_ms(0)), std::nullopt);
  EXPECT_EQ(NeighbourTable().capacity(), 4096u);
}

TEST(NeighbourTable, WantRefusesAddressesNobodyAnswersFor) {
  NeighbourTable t;
  EXPECT_EQ(t.want(ip("0.0.0.0"), at_ms(0)),
            "cannot resolve next hop 0.0.0.0: it is not a unicast IPv4 address");
  EXPECT_NE(t.want(ip("224.0.0.1"), at_ms(0)), std::nullopt);
  EXPECT_NE(t.want(ip("239.255.255.255"), at_ms(0)), std::nullopt);
  EXPECT_NE(t.want(ip("255.255.255.255"), at_ms(0)), std::nullopt);
  EXPECT_EQ(t.want(ip("223.255.255.254"), at_ms(0)), std::nullopt);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NeighbourTable, RequestsComeInAscendingOrder) {
  NeighbourTable t;
  for (Ipv4 hop : {kHopC, kHopA, kHopB}) ASSERT_EQ(t.want(hop, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.tick(at_ms(0)).arp_requests, (Requests{kHopA, kHopB, kHopC}));
}

TEST(NeighbourTable, EntriesListMacStateAndAge) {
  NeighbourTable t = resolved_at_zero();
  ASSERT_EQ(t.want(kHopB, at_ms(1000)), std::nullopt);
  const std::vector<NeighbourEntry> list = t.entries(at_ms(2500));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].ip, kHopA);
  EXPECT_EQ(list[0].mac, kMac1);
  EXPECT_STREQ(list[0].state, "REACHABLE");
  EXPECT_EQ(list[0].age, milliseconds(2500));
  EXPECT_EQ(list[1].ip, kHopB);
  EXPECT_EQ(list[1].mac, std::nullopt);
  EXPECT_STREQ(list[1].state, "INCOMPLETE");
  EXPECT_EQ(list[1].age, milliseconds(1500));
}

TEST(NeighbourTable, TimersAreConfigurable) {
  NeighbourTimers timers;
  timers.retrans_time = milliseconds(200);
  timers.max_probes = 2;
  timers.failed_retry = milliseconds(5000);
  timers.reachable_time = milliseconds(4000);
  NeighbourTable t(timers);
  ASSERT_EQ(t.want(kHopA, at_ms(0)), std::nullopt);
  EXPECT_EQ(t.tick(at_ms(0)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(200)).arp_requests, Requests{kHopA});
  EXPECT_EQ(t.tick(at_ms(400)).arp_requests, Requests{});
  EXPECT_EQ(state_of(t, kHopA, 400), "FAILED");
  EXPECT_EQ(t.tick(at_ms(5399)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(5400)).arp_requests, Requests{kHopA});
  ASSERT_TRUE(t.on_arp(kHopA, kMac1, at_ms(5500)));
  EXPECT_EQ(t.tick(at_ms(9499)).arp_requests, Requests{});
  EXPECT_EQ(t.tick(at_ms(9500)).arp_requests, Requests{kHopA});
  EXPECT_EQ(state_of(t, kHopA, 9500), "STALE");
}

TEST(NeighbourTable, StateNamesAreLinuxSpelling) {
  EXPECT_STREQ(neighbour_state_name(NeighbourState::incomplete), "INCOMPLETE");
  EXPECT_STREQ(neighbour_state_name(NeighbourState::reachable), "REACHABLE");
  EXPECT_STREQ(neighbour_state_name(NeighbourState::stale), "STALE");
  EXPECT_STREQ(neighbour_state_name(NeighbourState::failed), "FAILED");
}

}  // namespace
}  // namespace podvs::test
