// Golden-packet tests of VXLAN encapsulation: an inner frame goes in, the exact outer frame
// (built byte by byte, not by overlay/) comes out.
#include "overlay/vxlan_encap.h"

#include <gtest/gtest.h>
#include <rte_ip.h>

#include <set>

#include "tests/unit/overlay_fixture.h"

namespace podvs::test {
namespace {

constexpr uint32_t kFlowHash = 0xdeadbeef;

class VxlanEncapTest : public OverlayTest {
 protected:
  VxlanEncapTest() {
    VxlanParams params;
    params.vni = kVni;
    outer_ = make_vxlan_outer(params, ether(kLocalMac), ether(kNextHopMac), be_ip(kLocalIp),
                              be_ip(kRemoteIp));
  }

  // What the wire should carry for `inner`, built independently of the code under test.
  static std::vector<uint8_t> expected(const std::vector<uint8_t>& inner, bool udp_checksum) {
    PacketBuilder b;
    b.eth(kLocalMac, kNextHopMac)
        .ipv4(kLocalIp, kRemoteIp, IPPROTO_UDP, 64)
        .ip_id(0)
        .dont_fragment()
        .udp_payload(vxlan_source_port(kFlowHash), kVxlanPort, concat(vxlan_header(kVni), inner));
    if (!udp_checksum) b.no_udp_checksum();
    return b.bytes();
  }

  VxlanOuterTemplate outer_;
};

TEST_F(VxlanEncapTest, WrapsFrameWithZeroUdpChecksum) {
  const auto inner = inner_frame();
  rte_mbuf* m = keep(to_mbuf(test_pool(), inner));
  ASSERT_TRUE(vxlan_encap(m, outer_, kFlowHash, false));
  EXPECT_EQ(from_mbuf(m), expected(inner, false));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), inner.size() + kVxlanOverhead);
}

TEST_F(VxlanEncapTest, OuterHeaderBytesAreExactlyTheRfcLayout) {
  const auto inner = inner_frame(18);  // 60 bytes: IPv4 total length 96, UDP length 76
  rte_mbuf* m = keep(to_mbuf(test_pool(), inner));
  ASSERT_TRUE(vxlan_encap(m, outer_, kFlowHash, false));
  const uint16_t sport = vxlan_source_port(kFlowHash);
  const std::vector<uint8_t> header = {
      0x02,
      0x00,
      0x00,
      0x00,
      0x00,
      0xfe,  // Ethernet dst: next hop
      0x02,
      0x00,
      0x00,
      0x00,
      0x00,
      0x01,  // Ethernet src: our uplink
      0x08,
      0x00,  // IPv4
      0x45,
      0x00,
      0x00,
      0x60,  // version 4, IHL 5, TOS 0, total length 96
      0x00,
      0x00,
      0x40,
      0x00,  // id 0, DF
      0x40,
      0x11,
      0xb7,
      0x1e,  // TTL 64, UDP, header checksum
      0xc0,
      0xa8,
      0x01,
      0x0a,  // 192.168.1.10
      0xc0,
      0xa8,
      0x01,
      0x14,  // 192.168.1.20
      static_cast<uint8_t>(sport >> 8),
      static_cast<uint8_t>(sport),
      0x12,
      0xb5,  // dst port 4789
      0x00,
      0x4c,
      0x00,
      0x00,  // UDP length 76, no checksum
      0x08,
      0x00,
      0x00,
      0x00,  // flags I, reserved
      0x12,
      0x34,
      0x56,
      0x00,  // VNI 0x123456, reserved
  };
  const auto out = from_mbuf(m);
  ASSERT_EQ(out.size(), header.size() + inner.size());
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + kVxlanOverhead), header);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + kVxlanOverhead, out.end()), inner);
}

TEST_F(VxlanEncapTest, UdpChecksumCoversPseudoHeaderAndPayload) {
  const auto inner = inner_frame(333);  // odd length: the last byte is padded for the sum
  rte_mbuf* m = keep(to_mbuf(test_pool(), inner));
  ASSERT_TRUE(vxlan_encap(m, outer_, kFlowHash, true));
  const auto out = from_mbuf(m);
  EXPECT_EQ(out, expected(inner, true));

  // Independently: pseudo-header + UDP datagram sum to all ones when the checksum is right.
  const size_t udp_at = 14 + 20;
  const size_t udp_len = out.size() - udp_at;
  uint32_t sum = IPPROTO_UDP + static_cast<uint32_t>(udp_len);
  for (size_t i = 26; i < 34; i += 2) sum += (out[i] << 8) | out[i + 1];
  for (size_t i = udp_at; i < out.size(); i += 2)
    sum += (out[i] << 8) | (i + 1 < out.size() ? out[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
  EXPECT_NE(out[udp_at + 6] | out[udp_at + 7], 0);
}

TEST_F(VxlanEncapTest, IpChecksumMatchesFullRecomputationAtEveryLength) {
  for (size_t payload = 0; payload <= 1400; payload += 7) {
    rte_mbuf* m = to_mbuf(test_pool(), inner_frame(payload));
    ASSERT_TRUE(vxlan_encap(m, outer_, kFlowHash, false));
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
    const uint16_t got = ip->hdr_checksum;
    ip->hdr_checksum = 0;
    EXPECT_EQ(got, rte_ipv4_cksum(ip)) << "payload " << payload;
    rte_pktmbuf_free(m);
  }
}

TEST_F(VxlanEncapTest, MultiSegmentFrameGetsTheSameBytesAndChecksum) {
  const auto inner = inner_frame(1001);
  rte_mbuf* m = keep(to_segments(inner, {60, 333}));
  ASSERT_TRUE(vxlan_encap(m, outer_, kFlowHash, true));
  EXPECT_EQ(m->nb_segs, 3);
  EXPECT_EQ(linearize(m), expected(inner, true));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), inner.size() + kVxlanOverhead);
}

TEST_F(VxlanEncapTest, WithoutHeadroomRefusesAndLeavesTheMbufAlone) {
  const auto inner = inner_frame();
  rte_mbuf* m = keep(to_mbuf_with_headroom(inner, kVxlanOverhead - 2));
  EXPECT_FALSE(vxlan_encap(m, outer_, kFlowHash, true));
  EXPECT_EQ(rte_pktmbuf_headroom(m), kVxlanOverhead - 2);
  EXPECT_EQ(from_mbuf(m), inner);

  rte_mbuf* exact = keep(to_mbuf_with_headroom(inner, kVxlanOverhead));
  EXPECT_TRUE(vxlan_encap(exact, outer_, kFlowHash, false));
  EXPECT_EQ(from_mbuf(exact), expected(inner, false));
}

TEST(VxlanSourcePort, InDynamicRangeStablePerHashAndSpread) {
  std::set<uint16_t> low_bits_ports, high_bits_ports;
  for (uint32_t i = 0; i < 1000; ++i) {
    for (uint32_t hash : {i, i << 20}) {
      const uint16_t port = vxlan_source_port(hash);
      EXPECT_GE(port, 49152) << hash;
      EXPECT_EQ(port, vxlan_source_port(hash)) << hash;
    }
    low_bits_ports.insert(vxlan_source_port(i));
    high_bits_ports.insert(vxlan_source_port(i << 20));
  }
  // 1000 random draws from 16384 ports leave about 970 distinct; a weak mix leaves far fewer.
  EXPECT_GT(low_bits_ports.size(), 940u);
  EXPECT_GT(high_bits_ports.size(), 940u);
}

TEST(VxlanParams, ErrorsNameTheFieldToFix) {
  EXPECT_EQ(vxlan_params_error(VxlanParams{}), "");
  VxlanParams big_vni;
  big_vni.vni = kVxlanMaxVni + 1;
  EXPECT_EQ(vxlan_params_error(big_vni),
            "VXLAN VNI 16777216 does not fit in 24 bits (maximum 16777215)");
  VxlanParams no_port;
  no_port.udp_port = 0;
  EXPECT_EQ(vxlan_params_error(no_port), "VXLAN UDP port 0 is not a valid destination port");
}

}  // namespace
}  // namespace podvs::test
