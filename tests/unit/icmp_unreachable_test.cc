// Golden-packet tests of the ICMP "port unreachable" error a Service without endpoints answers
// with: a pod's TCP SYN or UDP datagram to the ClusterIP goes in, the exact error from the
// ClusterIP (written out byte by byte, checksums computed by hand) comes out, or the packet is
// refused and left alone.
#include <gtest/gtest.h>

#include "tests/unit/overlay_fixture.h"
#include "vswitch/icmp_error.h"

namespace podvs::test {
namespace {

constexpr const char* kPodIp = "10.244.0.2";
constexpr const char* kClusterIp = "10.96.0.10";

// True when the 16-bit one's complement sum of `len` bytes at `at` is all ones: the checksum the
// bytes hold is right.
bool checksum_ok(const std::vector<uint8_t>& frame, size_t at, size_t len) {
  uint32_t sum = 0;
  for (size_t i = at; i < at + len; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

class IcmpPortUnreachableTest : public OverlayTest {
 protected:
  static PacketBuilder udp_to_service() {
    PacketBuilder b;
    b.eth(kPodMac, kGatewayMac).ipv4(kPodIp, kClusterIp, IPPROTO_UDP).udp(5353, 53, 30);
    return b;
  }

  // The error the ClusterIP sends back for `original`, quoting `quoted` bytes of its IPv4 packet.
  static std::vector<uint8_t> expected_error(const std::vector<uint8_t>& original, size_t quoted) {
    return PacketBuilder()
        .eth(kGatewayMac, kPodMac)
        .ipv4(kClusterIp, kPodIp, IPPROTO_ICMP, 64)
        .ip_id(0)
        .icmp(3, 3, 0, {original.begin() + 14, original.begin() + 14 + quoted})
        .bytes();
  }

  bool make_error(rte_mbuf* m) {
    return make_port_unreachable(m, be_ip(kClusterIp), ether(kGatewayMac));
  }

  // The packet gets no error and stays as it was.
  void expect_refused(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = keep(to_mbuf(test_pool(), frame));
    EXPECT_FALSE(make_error(m));
    EXPECT_EQ(from_mbuf(m), frame);
  }
};

TEST_F(IcmpPortUnreachableTest, TcpSynBecomesTheExactError) {
  const auto syn = PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4(kPodIp, kClusterIp, IPPROTO_TCP)
                       .dont_fragment()
                       .tcp(40000, 80, 0)
                       .bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), syn));
  ASSERT_TRUE(make_error(m));
  const auto error = from_mbuf(m);
  const std::vector<uint8_t> expected = {
      0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x02,  // Ethernet dst: the pod
      0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01,  // Ethernet src: the gateway
      0x08, 0x00,                          // IPv4
      0x45, 0x00, 0x00, 0x38,              // total length 56 = 20 + 8 + 28
      0x00, 0x00, 0x00, 0x00,              // id 0, no flags
      0x40, 0x01, 0x65, 0x66,              // TTL 64, ICMP, header checksum
      0x0a, 0x60, 0x00, 0x0a,              // from the ClusterIP 10.96.0.10
      0x0a, 0xf4, 0x00, 0x02,              // to the pod 10.244.0.2
      0x03, 0x03, 0x5c, 0x84,              // destination unreachable, port unreachable, checksum
      0x00, 0x00, 0x00, 0x00,              // unused
      0x45, 0x00, 0x00, 0x28,              // quoted: the SYN's IPv4 header as sent, DF set
      0x12, 0x34, 0x40, 0x00,              //
      0x40, 0x06, 0x13, 0x3d,              //
      0x0a, 0xf4, 0x00, 0x02,              //
      0x0a, 0x60, 0x00, 0x0a,              //
      0x9c, 0x40, 0x00, 0x50,              // quoted: ports 40000 → 80
      0x00, 0x00, 0x03, 0xe8,              // quoted: sequence number, which Linux checks
  };
  EXPECT_EQ(error, expected);
  EXPECT_TRUE(checksum_ok(error, 14, 20));
  EXPECT_TRUE(checksum_ok(error, 34, 36));
  EXPECT_EQ(error, expected_error(syn, 20 + 8));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), error.size());
}

TEST_F(IcmpPortUnreachableTest, UdpWithoutDfBecomesTheExactError) {
  const auto datagram = udp_to_service().bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), datagram));
  ASSERT_TRUE(make_error(m));
  const auto error = from_mbuf(m);
  const std::vector<uint8_t> expected = {
      0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x02,  // Ethernet dst: the pod
      0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01,  // Ethernet src: the gateway
      0x08, 0x00,                          // IPv4
      0x45, 0x00, 0x00, 0x38,              // total length 56 = 20 + 8 + 28
      0x00, 0x00, 0x00, 0x00,              // id 0, no flags
      0x40, 0x01, 0x65, 0x66,              // TTL 64, ICMP, header checksum
      0x0a, 0x60, 0x00, 0x0a,              // from the ClusterIP 10.96.0.10
      0x0a, 0xf4, 0x00, 0x02,              // to the pod 10.244.0.2
      0x03, 0x03, 0xe5, 0x75,              // destination unreachable, port unreachable, checksum
      0x00, 0x00, 0x00, 0x00,              // unused
      0x45, 0x00, 0x00, 0x3a,              // quoted: the datagram's IPv4 header, no DF
      0x12, 0x34, 0x00, 0x00,              //
      0x40, 0x11, 0x53, 0x20,              //
      0x0a, 0xf4, 0x00, 0x02,              //
      0x0a, 0x60, 0x00, 0x0a,              //
      0x14, 0xe9, 0x00, 0x35,              // quoted: ports 5353 → 53
      0x00, 0x26, 0x02, 0x43,              // quoted: UDP length 38 and checksum
  };
  EXPECT_EQ(error, expected);
  EXPECT_TRUE(checksum_ok(error, 14, 20));
  EXPECT_TRUE(checksum_ok(error, 34, 36));
}

TEST_F(IcmpPortUnreachableTest, QuotesTheWholeHeaderWithOptions) {
  const auto original = udp_to_service().ip_options({0x01, 0x01, 0x01, 0x00}).bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(from_mbuf(m), expected_error(original, 24 + 8));
}

TEST_F(IcmpPortUnreachableTest, FirstFragmentGetsAnError) {
  const auto original = udp_to_service().more_fragments().bytes();
  rte_mbuf* m = keep(to_mbuf(test_pool(), original));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(from_mbuf(m), expected_error(original, 20 + 8));
}

TEST_F(IcmpPortUnreachableTest, MultiSegmentPacketShrinksToOneSegment) {
  const auto original = PacketBuilder()
                            .eth(kPodMac, kGatewayMac)
                            .ipv4(kPodIp, kClusterIp, IPPROTO_UDP)
                            .udp(5353, 53, 1200)
                            .bytes();
  rte_mbuf* m = keep(to_segments(original, {100, 600}));
  ASSERT_TRUE(make_error(m));
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(linearize(m), expected_error(original, 20 + 8));
}

TEST_F(IcmpPortUnreachableTest, IcmpErrorsAreRefused) {
  for (uint8_t type : {3, 4, 5, 11, 12}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4(kPodIp, kClusterIp, IPPROTO_ICMP)
                       .icmp(type, 0, 0, std::vector<uint8_t>(28, 0xab))
                       .bytes());
  }
}

TEST_F(IcmpPortUnreachableTest, NonFirstFragmentIsRefused) {
  expect_refused(udp_to_service().fragment_offset(185).bytes());
}

TEST_F(IcmpPortUnreachableTest, SourcesThatAreNotOneHostAreRefused) {
  for (const char* src : {"0.0.0.0", "255.255.255.255", "224.0.0.5", "127.0.0.1"}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4(src, kClusterIp, IPPROTO_UDP)
                       .udp(5353, 53)
                       .bytes());
  }
}

TEST_F(IcmpPortUnreachableTest, BroadcastAndMulticastDestinationsAreRefused) {
  for (const char* dst : {"239.1.1.1", "255.255.255.255"}) {
    expect_refused(PacketBuilder()
                       .eth(kPodMac, kGatewayMac)
                       .ipv4(kPodIp, dst, IPPROTO_UDP)
                       .udp(5353, 53)
                       .bytes());
  }
  expect_refused(PacketBuilder()
                     .eth(kPodMac, "ff:ff:ff:ff:ff:ff")
                     .ipv4(kPodIp, kClusterIp, IPPROTO_UDP)
                     .udp(5353, 53)
                     .bytes());
}

TEST_F(IcmpPortUnreachableTest, HeadersSplitAcrossSegmentsAreRefused) {
  // 14 + 20 bytes in the first segment: the 8 quoted payload bytes are in the second.
  const auto original = udp_to_service().bytes();
  rte_mbuf* m = keep(to_segments(original, {34}));
  EXPECT_FALSE(make_error(m));
  EXPECT_EQ(linearize(m), original);
}

TEST_F(IcmpPortUnreachableTest, WithoutHeadroomRefusesAndLeavesTheMbufAlone) {
  const auto original = udp_to_service().bytes();
  rte_mbuf* m = keep(to_mbuf_with_headroom(original, 26));
  EXPECT_FALSE(make_error(m));
  EXPECT_EQ(from_mbuf(m), original);
}

}  // namespace
}  // namespace podvs::test
