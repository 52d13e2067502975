#include "vswitch/arp_responder.h"

#include <gtest/gtest.h>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"
#include "vswitch/packet_parse.h"

namespace podvs::test {
namespace {

constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";
constexpr const char* kZero = "00:00:00:00:00:00";

struct Outcome {
  ArpVerdict verdict;
  std::vector<uint8_t> frame;
};

Outcome respond(const std::vector<uint8_t>& in, uint16_t port) {
  auto table = make_table();
  rte_mbuf* m = to_mbuf(test_pool(), in);
  const ParsedPacket p = parse_packet(m, port);
  EXPECT_EQ(p.cls, PacketClass::arp);
  Outcome o{arp_respond(p.eth, p.arp, port, *table), from_mbuf(m)};
  rte_pktmbuf_free(m);
  return o;
}

TEST(ArpResponder, PodAsksForGateway) {
  const auto request = PacketBuilder()
                           .eth(kPodAMac, kBcast, 0x0806)
                           .arp(1, kPodAMac, "10.244.0.2", kZero, "169.254.1.1")
                           .bytes();
  const auto expected = PacketBuilder()
                            .eth(kGwMac, kPodAMac, 0x0806)
                            .arp(2, kGwMac, "169.254.1.1", kPodAMac, "10.244.0.2")
                            .bytes();
  const Outcome o = respond(request, kPodAPort);
  EXPECT_TRUE(o.verdict.reply);
  EXPECT_EQ(o.frame, expected);
}

TEST(ArpResponder, UnicastProbeForGatewayIsAnswered) {
  const auto probe = PacketBuilder()
                         .eth(kPodAMac, kGwMac, 0x0806)
                         .arp(1, kPodAMac, "10.244.0.2", kGwMac, "169.254.1.1")
                         .bytes();
  EXPECT_TRUE(respond(probe, kPodAPort).verdict.reply);
}

TEST(ArpResponder, PodAskingForAnotherPodIsNotAnswered) {
  const auto request = PacketBuilder()
                           .eth(kPodAMac, kBcast, 0x0806)
                           .arp(1, kPodAMac, "10.244.0.2", kZero, "10.244.0.3")
                           .bytes();
  const Outcome o = respond(request, kPodAPort);
  EXPECT_FALSE(o.verdict.reply);
  EXPECT_EQ(o.verdict.reason, DropReason::arp_not_for_us);
  EXPECT_EQ(o.frame, request);  // untouched
}

TEST(ArpResponder, HostAsksForPod) {
  const auto request = PacketBuilder()
                           .eth(kHostMac, kBcast, 0x0806)
                           .arp(1, kHostMac, "10.244.0.1", kZero, "10.244.0.3")
                           .bytes();
  const auto expected = PacketBuilder()
                            .eth(kGwMac, kHostMac, 0x0806)
                            .arp(2, kGwMac, "10.244.0.3", kHostMac, "10.244.0.1")
                            .bytes();
  const Outcome o = respond(request, kHostPort);
  EXPECT_TRUE(o.verdict.reply);
  EXPECT_EQ(o.frame, expected);
}

// The node's route to the service CIDR goes via the pods' gateway address: one neighbour entry.
TEST(ArpResponder, HostAsksForTheGatewayItsNextHopToServices) {
  const auto request = PacketBuilder()
                           .eth(kHostMac, kBcast, 0x0806)
                           .arp(1, kHostMac, "10.244.0.1", kZero, "169.254.1.1")
                           .bytes();
  const auto expected = PacketBuilder()
                            .eth(kGwMac, kHostMac, 0x0806)
                            .arp(2, kGwMac, "169.254.1.1", kHostMac, "10.244.0.1")
                            .bytes();
  const Outcome o = respond(request, kHostPort);
  EXPECT_TRUE(o.verdict.reply);
  EXPECT_EQ(o.frame, expected);
}

TEST(ArpResponder, HostAskingForItselfOrOutsideIsNotAnswered) {
  for (const char* target : {"10.244.0.1", "192.0.2.1", "10.96.0.10"}) {
    const auto request = PacketBuilder()
                             .eth(kHostMac, kBcast, 0x0806)
                             .arp(1, kHostMac, "10.244.0.1", kZero, target)
                             .bytes();
    EXPECT_FALSE(respond(request, kHostPort).verdict.reply) << target;
  }
}

TEST(ArpResponder, RepliesAreIgnored) {
  const auto reply = PacketBuilder()
                         .eth(kPodAMac, kGwMac, 0x0806)
                         .arp(2, kPodAMac, "10.244.0.2", kGwMac, "169.254.1.1")
                         .bytes();
  const Outcome o = respond(reply, kPodAPort);
  EXPECT_FALSE(o.verdict.reply);
  EXPECT_EQ(o.verdict.reason, DropReason::arp_reply_ignored);
}

}  // namespace
}  // namespace podvs::test
