// Golden-packet tests of the ICMP "fragmentation needed" error: a DF packet too big for the
// overlay goes in, the exact ICMP error to its sender (built byte by byte) comes out, or the
// packet is refused and left alone.
#include <gtest/gtest.h>

#include "base/ipv4_header.h"
#include "tests/unit/overlay_fixture.h"
#include "vswitch/icmp_error.h"

namespace podvs::test {
namespace {

constexpr const char* kGatewayIp = "10.244.0.1";
constexpr uint16_t kNextHopMtu = 1450;

class IcmpFragNeededTest : public OverlayTest {
 protected:
  // A DF packet from the pod, too big for the overlay.
  static PacketBuilder big_udp() {
    PacketBuilder b;
    b.eth(kPodMac, kGatewayMac)
        .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP)
        .dont_fragment()
        .udp(5000, 6000, 1460);
    return b;
  }

  // The error the gateway sends back for `original`, quoting `quoted` bytes of its IPv4 packet.
  static std::vector<uint8_t> expected_error(const std::vector<uint8_t>& original, size_t quoted) {
    return PacketBuilder()
        .eth(kGatewayMac, kPodMac)
        .ipv4(kGatewayIp, "10.244.0.2", IPPROTO_ICMP, 64)
        .ip_id(0)
        .icmp(3, 4, kNextHopMtu, {original.begin() + 14, original.begin() + 14 + quoted})
        .bytes();
  }

  bool make_error(rte_mbuf* m) {
    return make_frag_needed(m, kNextHopMtu, be_ip(kGatewayIp), ether(kGatewayMac));
  }

  // The packet gets no error and stays as it was.
  void expect_refused(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = keep(to_mbuf(test_pool(), frame));
    EXPECT_FALSE(make_error(m));
    EXPECT_EQ(from_mbuf(m), frame);
  }
};

TEST_F(IcmpFragNeededTest, UdpPacketBecomesTheExactError) {
  const auto original = big_udp().bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  const auto error = from_mbuf(m);
  EXPECT_EQ(error, expected_error(original, 20 + 8));
  EXPECT_EQ(error.size(), 14u + 20 + 8 + 28);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), error.size());
}

TEST_F(IcmpFragNeededTest, ErrorBytesAreExactlyTheRfcLayout) {
  const auto original = big_udp().bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  const auto error = from_mbuf(m);
  ASSERT_EQ(error.size(), 70u);
  const std::vector<uint8_t> headers = {
      0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x02,  // Ethernet dst: the sender
      0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01,  // Ethernet src: the gateway
      0x08, 0x00,                          // IPv4
      0x45, 0x00, 0x00, 0x38,              // total length 56 = 20 + 8 + 28
      0x00, 0x00, 0x00, 0x00,              // id 0, no flags
      0x40, 0x01, 0x64, 0xdb,              // TTL 64, ICMP, header checksum
      0x0a, 0xf4, 0x00, 0x01,              // 10.244.0.1
      0x0a, 0xf4, 0x00, 0x02,              // 10.244.0.2
      0x03, 0x04,                          // destination unreachable, fragmentation needed
  };
  EXPECT_EQ(std::vector<uint8_t>(error.begin(), error.begin() + 36), headers);
  EXPECT_EQ(error[38], 0x00);  // unused
  EXPECT_EQ(error[39], 0x00);
  EXPECT_EQ((error[40] << 8) | error[41], kNextHopMtu);
  EXPECT_EQ(std::vector<uint8_t>(error.begin() + 42, error.end()),
            std::vector<uint8_t>(original.begin() + 14, original.begin() + 14 + 28));
}

TEST_F(IcmpFragNeededTest, QuotesTheWholeHeaderWithOptions) {
  const auto original = big_udp().ip_options({0x01, 0x01, 0x01, 0x00}).bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(from_mbuf(m), expected_error(original, 24 + 8));
}

TEST_F(IcmpFragNeededTest, EchoRequestGetsAnError) {
  PacketBuilder b;
  b.eth(kPodMac, kGatewayMac)
      .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_ICMP)
      .dont_fragment()
      .icmp_echo(7, 1, 1472);
  const auto original = b.bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(from_mbuf(m), expected_error(original, 20 + 8));
}

TEST_F(IcmpFragNeededTest, MultiSegmentPacketShrinksToOneSegment) {
  const auto original = big_udp().bytes();
  rte_mbuf* m = keep(to_segments(original, {200, 700}));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(m->next, nullptr);
  EXPECT_EQ(linearize(m), expected_error(original, 20 + 8));
  // TearDown checks that the freed segments went back to the pool.
}

TEST_F(IcmpFragNeededTest, PacketWithoutDfIsRefused) {
  expect_refused(PacketBuilder()
                     .eth(kPodMac, kGatewayMac)
                     .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP)
                     .udp(5000, 6000, 1460)
                     .bytes());
}

TEST_F(IcmpFragNeededTest, IcmpErrorsAreRefused) {
  for (uint8_t type : {3, 4, 5, 11, 12}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_ICMP)
                       .dont_fragment()
                       .icmp(type, 0, 0, std::vector<uint8_t>(1460, 0xab))
                       .bytes());
  }
}

TEST_F(IcmpFragNeededTest, NonFirstFragmentIsRefused) {
  expect_refused(big_udp().fragment_offset(185).bytes());
}

TEST_F(IcmpFragNeededTest, SourcesThatAreNotOneHostAreRefused) {
  for (const char* src : {"0.0.0.0", "255.255.255.255", "224.0.0.5", "127.0.0.1"}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4(src, "10.244.1.3", IPPROTO_UDP)
                       .dont_fragment()
                       .udp(5000, 6000, 1460)
                       .bytes());
  }
}

TEST_F(IcmpFragNeededTest, BroadcastAndMulticastDestinationsAreRefused) {
  for (const char* dst : {"239.1.1.1", "255.255.255.255"}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4("10.244.0.2", dst, IPPROTO_UDP)
                       .dont_fragment()
                       .udp(5000, 6000, 1460)
                       .bytes());
  }
  expect_refused(PacketBuilder()
                     .eth(kPodMac, "ff:ff:ff:ff:ff:ff")
                     .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP)
                     .dont_fragment()
                     .udp(5000, 6000, 1460)
                     .bytes());
}

TEST_F(IcmpFragNeededTest, WithoutHeadroomRefusesAndLeavesTheMbufAlone) {
  const auto original = big_udp().bytes();
  rte_mbuf* m = keep(to_mbuf_with_headroom(original, 26));
  EXPECT_FALSE(make_error(m));
  EXPECT_EQ(from_mbuf(m), original);
}

TEST(Ipv4DontFragment, ReadsTheDfBit) {
  auto df = PacketBuilder().eth(kPodMac, kGatewayMac).ipv4("10.0.0.1", "10.0.0.2", 17);
  const auto with = df.dont_fragment().udp(1, 2).bytes();
  const auto without = PacketBuilder()
                           .eth(kPodMac, kGatewayMac)
                           .ipv4("10.0.0.1", "10.0.0.2", 17)
                           .more_fragments()
                           .udp(1, 2)
                           .bytes();
  EXPECT_TRUE(ipv4_dont_fragment(reinterpret_cast<const rte_ipv4_hdr*>(with.data() + 14)));
  EXPECT_FALSE(ipv4_dont_fragment(reinterpret_cast<const rte_ipv4_hdr*>(without.data() + 14)));
}

}  // namespace
}  // namespace podvs::test
