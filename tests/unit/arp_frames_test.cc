// ARP frames for next-hop resolution: the exact bytes we send, and which received ARPs may teach
// the neighbour table a MAC.
#include "overlay/arp_frames.h"

#include <gtest/gtest.h>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

const rte_ether_addr kNodeMac{{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}};
const rte_be32_t kNodeIp = RTE_BE32(0xc0a8010a);  // 192.168.1.10
const rte_be32_t kHopIp = RTE_BE32(0xc0a80101);   // 192.168.1.1

// Broadcast request "who has 192.168.1.1? tell 192.168.1.10", written out by hand.
const std::vector<uint8_t> kRequestFrame = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // Ethernet destination: broadcast
    0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // Ethernet source: node MAC
    0x08, 0x06,                          // EtherType ARP
    0x00, 0x01,                          // hardware type Ethernet
    0x08, 0x00,                          // protocol type IPv4
    0x06, 0x04,                          // address lengths
    0x00, 0x01,                          // opcode request
    0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // sender MAC
    0xc0, 0xa8, 0x01, 0x0a,              // sender IP 192.168.1.10
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC: unknown
    0xc0, 0xa8, 0x01, 0x01,              // target IP 192.168.1.1
    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // padding to 60 bytes
};

std::vector<uint8_t> built(bool (*build)(rte_mbuf*)) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  EXPECT_NE(m, nullptr);
  EXPECT_TRUE(build(m));
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), kArpFrameLen);
  std::vector<uint8_t> frame = from_mbuf(m);
  rte_pktmbuf_free(m);
  return frame;
}

TEST(ArpFrames, RequestIsBroadcastAndPaddedToTheMinimumFrame) {
  ASSERT_EQ(kRequestFrame.size(), 60u);
  const auto frame =
      built([](rte_mbuf* m) { return build_arp_request(m, kNodeMac, kNodeIp, kHopIp); });
  EXPECT_EQ(frame, kRequestFrame);
}

TEST(ArpFrames, GratuitousArpAnnouncesTheNodeIpAsSenderAndTarget) {
  std::vector<uint8_t> expected = kRequestFrame;
  expected[41] = 0x0a;  // last byte of the target IP: 192.168.1.10, like the sender
  const auto frame = built([](rte_mbuf* m) { return build_gratuitous_arp(m, kNodeMac, kNodeIp); });
  EXPECT_EQ(frame, expected);
}

TEST(ArpFrames, RequestRefusesAnMbufThatAlreadyHoldsData) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  ASSERT_NE(m, nullptr);
  ASSERT_NE(rte_pktmbuf_append(m, 1), nullptr);
  EXPECT_FALSE(build_arp_request(m, kNodeMac, kNodeIp, kHopIp));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), 1u);
  rte_pktmbuf_free(m);
}

// The ARP part (after the Ethernet header) of a frame from the packet builder.
std::vector<uint8_t> arp_body(uint16_t op, const std::string& sha, const std::string& spa) {
  const auto frame = PacketBuilder()
                         .eth(sha, "ff:ff:ff:ff:ff:ff", 0x0806)
                         .arp(op, sha, spa, "00:00:00:00:00:00", "192.168.1.10")
                         .bytes();
  return {frame.begin() + sizeof(rte_ether_hdr), frame.end()};
}

std::optional<ArpLearned> parse(const std::vector<uint8_t>& body) {
  return parse_arp_for_neighbour(reinterpret_cast<const rte_arp_hdr*>(body.data()), body.size());
}

const std::string kHopMac = "52:54:00:12:34:56";

TEST(ArpFrames, ParseLearnsTheSenderOfAReply) {
  const auto learned = parse(arp_body(2, kHopMac, "192.168.1.1"));
  ASSERT_TRUE(learned.has_value());
  EXPECT_EQ(learned->ip, ip("192.168.1.1"));
  EXPECT_EQ(learned->mac, *MacAddr::parse(kHopMac));
}

TEST(ArpFrames, ParseLearnsTheSenderOfARequest) {
  const auto learned = parse(arp_body(1, kHopMac, "192.168.1.1"));
  ASSERT_TRUE(learned.has_value());
  EXPECT_EQ(learned->ip, ip("192.168.1.1"));
  EXPECT_EQ(learned->mac, *MacAddr::parse(kHopMac));
}

TEST(ArpFrames, ParseReadsOurOwnRequest) {
  const std::vector<uint8_t> body(kRequestFrame.begin() + 14, kRequestFrame.begin() + 42);
  const auto learned = parse(body);
  ASSERT_TRUE(learned.has_value());
  EXPECT_EQ(learned->ip, ip("192.168.1.10"));
  EXPECT_EQ(learned->mac, *MacAddr::parse("02:00:5e:10:20:30"));
}

TEST(ArpFrames, ParseRejectsOtherHardwareAndProtocolTypesAndLengths) {
  const auto good = arp_body(2, kHopMac, "192.168.1.1");
  ASSERT_TRUE(parse(good).has_value());
  struct Corruption {
    size_t offset;
    uint8_t value;
    const char* what;
  };
  for (const Corruption& c : {Corruption{1, 6, "htype IEEE 802"}, Corruption{2, 0x86, "ptype"},
                              Corruption{3, 0xdd, "ptype IPv6"}, Corruption{4, 8, "hlen"},
                              Corruption{5, 16, "plen"}, Corruption{7, 3, "opcode RARP"}}) {
    auto bad = good;
    bad[c.offset] = c.value;
    EXPECT_FALSE(parse(bad).has_value()) << c.what;
  }
}

TEST(ArpFrames, ParseRejectsAShortHeader) {
  const auto good = arp_body(2, kHopMac, "192.168.1.1");
  EXPECT_FALSE(parse_arp_for_neighbour(reinterpret_cast<const rte_arp_hdr*>(good.data()),
                                       sizeof(rte_arp_hdr) - 1)
                   .has_value());
}

TEST(ArpFrames, ParseRejectsZeroSenderIp) {
  EXPECT_FALSE(parse(arp_body(1, kHopMac, "0.0.0.0")).has_value());  // RFC 5227 probe
}

TEST(ArpFrames, ParseRejectsSenderMacsThatNoHostOwns) {
  EXPECT_FALSE(parse(arp_body(2, "01:00:5e:00:00:01", "192.168.1.1")).has_value());
  EXPECT_FALSE(parse(arp_body(2, "ff:ff:ff:ff:ff:ff", "192.168.1.1")).has_value());
  EXPECT_FALSE(parse(arp_body(2, "00:00:00:00:00:00", "192.168.1.1")).has_value());
}

}  // namespace
}  // namespace podvs::test
