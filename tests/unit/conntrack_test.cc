// Connection table: an entry is found from either direction, the table refuses what it cannot
// hold, and entries age out by protocol state. The TSC runs at 1 kHz here, so a second is 1000.
#include "vswitch/nat/conntrack.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/unit/conn_fixture.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;
constexpr uint64_t kSecond = kHz;
constexpr ConnDir kOrig = ConnDir::original;
constexpr ConnDir kReply = ConnDir::reply;

// The brief's example: pod 10.244.1.2:5000 asks 8.8.8.8:53, masqueraded to the node's port 40001.
const ConnTuple kDnsQuery = tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53);
const NatSpec kMasquerade = snat_to(kNodeIp, 40001);

// UDP flows that differ by source port.
ConnTuple udp_flow(uint16_t sport) { return tuple(IPPROTO_UDP, kPodIp, sport, kDnsIp, 53); }

ConnEntry* create_plain(ConnTrack& ct, const ConnTuple& orig, uint64_t now) {
  return ct.create(orig, reversed(orig), NatSpec{}, now);
}

TEST(NatReplyTuple, SnatRepliesGoToTheNodePort) {
  EXPECT_EQ(nat_reply_tuple(kDnsQuery, kMasquerade),
            tuple(IPPROTO_UDP, kDnsIp, 53, kNodeIp, 40001));
}

TEST(NatReplyTuple, DnatRepliesComeFromTheBackend) {
  const ConnTuple orig = tuple(IPPROTO_TCP, kClientIp, 33000, kClusterIp, 80);
  EXPECT_EQ(nat_reply_tuple(orig, dnat_to(kBackendIp, 8080)),
            tuple(IPPROTO_TCP, kBackendIp, 8080, kClientIp, 33000));
}

TEST(NatReplyTuple, IcmpEchoIdentifierIsBothPorts) {
  EXPECT_EQ(nat_reply_tuple(echo_tuple(kPodIp, kDnsIp, 7), snat_to(kNodeIp, 40001)),
            echo_tuple(kDnsIp, kNodeIp, 40001));
}

TEST(NatReplyTuple, NoNatIsTheReversedTuple) {
  EXPECT_EQ(nat_reply_tuple(kDnsQuery, NatSpec{}), tuple(IPPROTO_UDP, kDnsIp, 53, kPodIp, 5000));
}

TEST(ConnTrack, BothDirectionsFindTheEntry) {
  ConnTrack ct(64, kHz);
  const ConnTuple reply = nat_reply_tuple(kDnsQuery, kMasquerade);
  ConnEntry* e = ct.create(kDnsQuery, reply, kMasquerade, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(ct.size(), 1u);

  const ConnLookup out = ct.lookup(kDnsQuery, 1);
  EXPECT_EQ(out.entry, e);
  EXPECT_EQ(out.dir, kOrig);
  const ConnLookup back = ct.lookup(reply, 1);
  EXPECT_EQ(back.entry, e);
  EXPECT_EQ(back.dir, kReply);
  // A reply to the pod's own address never reaches the pod: the connection was translated.
  EXPECT_EQ(ct.lookup(reversed(kDnsQuery), 1).entry, nullptr);

  EXPECT_EQ(e->tuple(kOrig), kDnsQuery);
  EXPECT_EQ(e->tuple(kReply), reply);
  EXPECT_TRUE(e->nat().snat);
  EXPECT_FALSE(e->nat().dnat);
  EXPECT_EQ(e->nat().src_addr, be32(kNodeIp));
  EXPECT_EQ(e->nat().src_port, be16(40001));
  EXPECT_EQ(e->last_seen(), 0u);
}

TEST(ConnTrack, ProtocolIsPartOfTheTuple) {
  ConnTrack ct(64, kHz);
  ASSERT_NE(create_plain(ct, kDnsQuery, 0), nullptr);
  EXPECT_EQ(ct.lookup(tuple(IPPROTO_TCP, kPodIp, 5000, kDnsIp, 53), 0).entry, nullptr);
}

TEST(ConnTrack, RemoveForgetsBothDirectionsAndFreesTheEntry) {
  ConnTrack ct(1, kHz);
  ConnEntry* e = create_plain(ct, kDnsQuery, 0);
  ASSERT_NE(e, nullptr);
  ct.remove(e);
  EXPECT_EQ(ct.size(), 0u);
  EXPECT_EQ(ct.lookup(kDnsQuery, 0).entry, nullptr);
  EXPECT_EQ(ct.lookup(reversed(kDnsQuery), 0).entry, nullptr);
  EXPECT_NE(create_plain(ct, udp_flow(5001), 0), nullptr);
}

TEST(ConnTrack, CookieIsTheCallersAndStartsAtZero) {
  ConnTrack ct(1, kHz);
  ConnEntry* e = create_plain(ct, kDnsQuery, 0);
  ASSERT_NE(e, nullptr);
  e->set_cookie(42);
  EXPECT_EQ(ct.lookup(kDnsQuery, 0).entry->cookie(), 42u);
  ct.remove(e);
  EXPECT_EQ(create_plain(ct, kDnsQuery, 0)->cookie(), 0u);
}

TEST(ConnTrack, RefusesATupleALiveEntryHolds) {
  ConnTrack ct(64, kHz);
  ASSERT_NE(ct.create(kDnsQuery, nat_reply_tuple(kDnsQuery, kMasquerade), kMasquerade, 0), nullptr);
  EXPECT_EQ(ct.create(kDnsQuery, reversed(kDnsQuery), NatSpec{}, 0), nullptr);
  // Another pod's query masqueraded to the same node port would get the same replies.
  const ConnTuple other = tuple(IPPROTO_UDP, "10.244.1.3", 5000, kDnsIp, 53);
  EXPECT_EQ(ct.create(other, nat_reply_tuple(other, kMasquerade), kMasquerade, 0), nullptr);
  EXPECT_EQ(ct.size(), 1u);
}

TEST(ConnTrack, FullTableReturnsNull) {
  ConnTrack ct(1024, kHz);
  for (uint16_t i = 0; i < 1024; ++i)
    ASSERT_NE(create_plain(ct, udp_flow(static_cast<uint16_t>(1000 + i)), 0), nullptr) << i;
  EXPECT_EQ(ct.size(), 1024u);
  EXPECT_EQ(ct.capacity(), 1024u);
  EXPECT_EQ(create_plain(ct, udp_flow(3000), 0), nullptr);
  EXPECT_EQ(ct.size(), 1024u);
  for (uint16_t i = 0; i < 1024; ++i)
    EXPECT_NE(ct.lookup(udp_flow(static_cast<uint16_t>(1000 + i)), 0).entry, nullptr) << i;

  ct.remove(ct.lookup(udp_flow(1500), 0).entry);
  EXPECT_NE(create_plain(ct, udp_flow(3000), 0), nullptr);
}

// With two entries there are two buckets, which every tuple's pair covers: create() sees them all.
TEST(ConnTrack, CreateReclaimsExpiredEntriesWhenFull) {
  ConnTrack ct(2, kHz);
  ASSERT_NE(create_plain(ct, udp_flow(1), 0), nullptr);
  ASSERT_NE(create_plain(ct, udp_flow(2), 0), nullptr);
  EXPECT_EQ(create_plain(ct, udp_flow(3), 30 * kSecond), nullptr);  // alive up to 30 s
  EXPECT_NE(create_plain(ct, udp_flow(3), 30 * kSecond + 1), nullptr);
  EXPECT_EQ(ct.size(), 1u);
}

TEST(ConnTrack, CreateReplacesAnExpiredEntryOfTheSameTuple) {
  ConnTrack ct(64, kHz);
  ConnEntry* old = create_plain(ct, kDnsQuery, 0);
  ASSERT_NE(old, nullptr);
  old->set_cookie(7);
  ConnEntry* e = create_plain(ct, kDnsQuery, 31 * kSecond);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(ct.size(), 1u);
  EXPECT_EQ(ct.lookup(kDnsQuery, 31 * kSecond).entry->cookie(), 0u);
}

TEST(ConnTrack, LookupTreatsAnExpiredEntryAsAbsent) {
  ConnTrack ct(64, kHz);
  ASSERT_NE(create_plain(ct, kDnsQuery, 0), nullptr);
  EXPECT_NE(ct.lookup(kDnsQuery, 30 * kSecond).entry, nullptr);
  EXPECT_EQ(ct.lookup(reversed(kDnsQuery), 30 * kSecond + 1).entry, nullptr);
  EXPECT_EQ(ct.size(), 0u);
}

TEST(ConnTrack, ExpireScansItsBudgetRoundRobin) {
  ConnTrack ct(8, kHz);
  for (uint16_t port : {1, 2, 3}) ASSERT_NE(create_plain(ct, udp_flow(port), 0), nullptr);
  ConnEntry* fresh = create_plain(ct, udp_flow(4), 0);
  ct.update(fresh, kOrig, 0, 20 * kSecond);

  const uint64_t now = 31 * kSecond;
  EXPECT_EQ(ct.expire(now, 2), 2u);  // entries 0 and 1
  EXPECT_EQ(ct.size(), 2u);
  EXPECT_EQ(ct.expire(now, 8), 1u);  // entries 2..7, then 0 and 1 again
  EXPECT_EQ(ct.size(), 1u);
  EXPECT_NE(ct.lookup(udp_flow(4), now).entry, nullptr);
  EXPECT_EQ(ct.expire(now, 8), 0u);
  EXPECT_EQ(ct.expire(51 * kSecond, 8), 1u);
  EXPECT_EQ(ct.size(), 0u);
}

TEST(ConnTrack, UdpAgesFasterUntilAReply) {
  ConnTrack ct(8, kHz);
  ConnEntry* e = create_plain(ct, kDnsQuery, 0);
  ct.update(e, kOrig, 0, 0);
  EXPECT_FALSE(e->replied());
  ct.update(e, kReply, 0, 0);
  EXPECT_TRUE(e->replied());
  EXPECT_NE(ct.lookup(kDnsQuery, 120 * kSecond).entry, nullptr);
  EXPECT_EQ(ct.lookup(kDnsQuery, 120 * kSecond + 1).entry, nullptr);
}

TEST(ConnTrack, IcmpEchoTimesOutAfter30Seconds) {
  ConnTrack ct(8, kHz);
  const ConnTuple ping = echo_tuple(kPodIp, kDnsIp, 7);
  ConnEntry* e = create_plain(ct, ping, 0);
  ct.update(e, kReply, 0, 0);
  EXPECT_NE(ct.lookup(ping, 30 * kSecond).entry, nullptr);
  EXPECT_EQ(ct.lookup(ping, 30 * kSecond + 1).entry, nullptr);
}

TEST(ConnTrack, TimeoutsAreConfigurable) {
  ConnTimeouts timeouts;
  timeouts.udp_unreplied = 5;
  ConnTrack ct(8, kHz, timeouts);
  ASSERT_NE(create_plain(ct, kDnsQuery, 0), nullptr);
  EXPECT_NE(ct.lookup(kDnsQuery, 5 * kSecond).entry, nullptr);
  EXPECT_EQ(ct.lookup(kDnsQuery, 5 * kSecond + 1).entry, nullptr);
}

TEST(ConnTrack, ConstructorRejectsWhatItCannotBuild) {
  EXPECT_THROW(ConnTrack(0, kHz), std::invalid_argument);
  EXPECT_THROW(ConnTrack(ConnTrack::kMaxCapacity + 1, kHz), std::invalid_argument);
  EXPECT_THROW(ConnTrack(8, 0), std::invalid_argument);
}

}  // namespace
}  // namespace podvs::test
