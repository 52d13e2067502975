// Masquerade source ports: a port is handed out only when the connection's replies would not be
// mistaken for another connection's, ports come back when their entry goes, and picks spread
// over the range.
#include "vswitch/nat/snat_ports.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <stdexcept>

#include "tests/unit/conn_fixture.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;
constexpr uint64_t kSeed = 12345;

ConnTuple query_from(uint16_t sport) { return tuple(IPPROTO_UDP, kPodIp, sport, kDnsIp, 53); }

uint16_t port_of(const NatSpec& nat) { return rte_be_to_cpu_16(nat.src_port); }

// Picks a port for `orig` and tracks the connection; returns the port, or 0 when none was free.
uint16_t open_connection(SnatPortAllocator& ports, ConnTrack& ct, const ConnTuple& orig,
                         uint64_t now = 0) {
  const auto nat = ports.pick(ct, orig, be32(kNodeIp), now);
  if (!nat) return 0;
  EXPECT_TRUE(nat->snat);
  EXPECT_EQ(nat->src_addr, be32(kNodeIp));
  const ConnTuple reply = nat_reply_tuple(orig, *nat);
  EXPECT_EQ(ct.lookup(reply, now).entry, nullptr) << "port " << port_of(*nat) << " is taken";
  EXPECT_NE(ct.create(orig, reply, *nat, now), nullptr);
  return port_of(*nat);
}

TEST(SnatPortAllocator, NeverHandsOutAPortWhoseReplyTupleExists) {
  ConnTrack ct(64, kHz);
  SnatPortAllocator ports({100, 115}, kSeed);
  std::set<uint16_t> used;
  for (uint16_t i = 0; i < 16; ++i) {
    const uint16_t port = open_connection(ports, ct, query_from(static_cast<uint16_t>(5000 + i)));
    EXPECT_GE(port, 100);
    EXPECT_LE(port, 115);
    EXPECT_TRUE(used.insert(port).second) << port;
  }
  EXPECT_FALSE(ports.pick(ct, query_from(6000), be32(kNodeIp), 0));
}

TEST(SnatPortAllocator, PortComesBackWhenItsEntryGoes) {
  ConnTrack ct(64, kHz);
  SnatPortAllocator ports({100, 115}, kSeed);
  for (uint16_t i = 0; i < 16; ++i)
    open_connection(ports, ct, query_from(static_cast<uint16_t>(5000 + i)));
  const ConnLookup third = ct.lookup(query_from(5002), 0);
  ASSERT_NE(third.entry, nullptr);
  const uint16_t freed = port_of(third.entry->nat());
  ct.remove(third.entry);
  EXPECT_EQ(open_connection(ports, ct, query_from(6000)), freed);
}

TEST(SnatPortAllocator, PortOfAnExpiredEntryIsFree) {
  ConnTrack ct(64, kHz);
  SnatPortAllocator ports({100, 100}, kSeed);
  EXPECT_EQ(open_connection(ports, ct, query_from(5000)), 100);
  EXPECT_FALSE(ports.pick(ct, query_from(5001), be32(kNodeIp), 30 * kHz));
  EXPECT_EQ(open_connection(ports, ct, query_from(5001), 30 * kHz + 1), 100);
}

TEST(SnatPortAllocator, OnePortServesDifferentDestinations) {
  ConnTrack ct(64, kHz);
  SnatPortAllocator ports({100, 100}, kSeed);
  EXPECT_EQ(open_connection(ports, ct, query_from(5000)), 100);
  EXPECT_EQ(open_connection(ports, ct, tuple(IPPROTO_UDP, kPodIp, 5000, "1.1.1.1", 53)), 100);
  EXPECT_EQ(open_connection(ports, ct, tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 5353)), 100);
  EXPECT_EQ(open_connection(ports, ct, tuple(IPPROTO_TCP, kPodIp, 5000, kDnsIp, 53)), 100);
  EXPECT_FALSE(ports.pick(ct, query_from(5001), be32(kNodeIp), 0));
}

TEST(SnatPortAllocator, IcmpEchoGetsAnIdentifier) {
  ConnTrack ct(64, kHz);
  SnatPortAllocator ports({100, 100}, kSeed);
  const ConnTuple ping = echo_tuple(kPodIp, kDnsIp, 7);
  const auto nat = ports.pick(ct, ping, be32(kNodeIp), 0);
  ASSERT_TRUE(nat);
  EXPECT_EQ(nat_reply_tuple(ping, *nat), echo_tuple(kDnsIp, kNodeIp, 100));
}

TEST(SnatPortAllocator, SpreadsPortsOverTheRange) {
  ConnTrack ct(4096, kHz);
  SnatPortAllocator ports(SnatPortRange{}, kSeed);
  // 2000 connections to one destination: eight equal slices of the range get about 250 each.
  std::array<int, 8> slices{};
  constexpr uint32_t kRangeSize = 60999 - 32768 + 1;
  for (uint16_t i = 0; i < 2000; ++i) {
    const uint16_t port = open_connection(ports, ct, query_from(static_cast<uint16_t>(1000 + i)));
    ASSERT_GE(port, 32768);
    ASSERT_LE(port, 60999);
    ++slices[(port - 32768u) * 8 / kRangeSize];
  }
  for (int n : slices) {
    EXPECT_GT(n, 175);
    EXPECT_LT(n, 325);
  }
  // Picks that are not used still differ from one another.
  std::set<uint16_t> picked;
  for (int i = 0; i < 200; ++i)
    picked.insert(port_of(*ports.pick(ct, query_from(9999), be32(kNodeIp), 0)));
  EXPECT_GE(picked.size(), 190u);
}

TEST(SnatPortAllocator, RejectsAnEmptyRange) {
  EXPECT_THROW(SnatPortAllocator({200, 100}, kSeed), std::invalid_argument);
  EXPECT_THROW(SnatPortAllocator({0, 100}, kSeed), std::invalid_argument);
  EXPECT_THROW(SnatPortAllocator({100, 200}, kSeed, 0), std::invalid_argument);
}

TEST(WorkerPortRange, SharesTheRangeEvenlyWithoutGapsOrOverlap) {
  const SnatPortRange all;  // 28232 ports: 9411 + 9411 + 9410
  const SnatPortRange a = worker_port_range(all, 0, 3);
  const SnatPortRange b = worker_port_range(all, 1, 3);
  const SnatPortRange c = worker_port_range(all, 2, 3);
  EXPECT_EQ(a.lo, 32768);
  EXPECT_EQ(a.hi, 42178);
  EXPECT_EQ(b.lo, 42179);
  EXPECT_EQ(b.hi, 51589);
  EXPECT_EQ(c.lo, 51590);
  EXPECT_EQ(c.hi, 60999);
  const SnatPortRange one = worker_port_range(all, 0, 1);
  EXPECT_EQ(one.lo, all.lo);
  EXPECT_EQ(one.hi, all.hi);
}

TEST(WorkerPortRange, RejectsImpossibleShares) {
  EXPECT_THROW(worker_port_range({}, 3, 3), std::invalid_argument);
  EXPECT_THROW(worker_port_range({100, 101}, 0, 3), std::invalid_argument);
  EXPECT_THROW(worker_port_range({100, 101}, 0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace podvs::test
