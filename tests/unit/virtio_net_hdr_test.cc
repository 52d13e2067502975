// The virtio-net header as golden bytes: the 10 bytes a tap hands podvs become the mbuf's offload
// fields (or a drop reason), and the mbuf's offload fields become the 10 bytes podvs writes.
#include "offload/virtio_net_hdr.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>

#include <array>
#include <cstring>
#include <vector>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs {
namespace {

using test::PacketBuilder;
using Bytes = std::array<uint8_t, kVirtioNetHdrLen>;

// A header from its wire bytes: flags, gso_type, then hdr_len, gso_size, csum_start, csum_offset
// as little-endian 16-bit words (a tap's legacy header is native-endian; our hosts are x86).
virtio_net_hdr hdr_of(const Bytes& b) {
  virtio_net_hdr h;
  std::memcpy(&h, b.data(), sizeof(h));
  return h;
}

Bytes bytes_of(const virtio_net_hdr& h) {
  Bytes b;
  std::memcpy(b.data(), &h, sizeof(h));
  return b;
}

std::vector<uint8_t> tcp_frame(size_t payload, uint8_t flags = test::kTcpAck) {
  return PacketBuilder()
      .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP)
      .tcp(40000, 5201, payload)
      .tcp_flags(flags)
      .bytes();
}

std::vector<uint8_t> udp_frame(size_t payload) {
  return PacketBuilder()
      .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
      .udp(5353, 53, payload)
      .bytes();
}

std::vector<uint8_t> icmp_frame() {
  return PacketBuilder()
      .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_ICMP)
      .icmp_echo(7, 1, 40)
      .bytes();
}

// The frame with its L4 checksum as a virtio sender leaves it partial: the folded pseudo-header
// sum, not inverted, L4 length included.
std::vector<uint8_t> with_partial_checksum(std::vector<uint8_t> frame, size_t field) {
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame.data() + 14);
  const uint16_t pseudo = rte_ipv4_phdr_cksum(ip, 0);
  std::memcpy(frame.data() + 34 + field, &pseudo, sizeof(pseudo));
  return frame;
}

class VnetHdrTest : public ::testing::Test {
 protected:
  void TearDown() override { rte_pktmbuf_free(m_); }
  rte_mbuf* mbuf(const std::vector<uint8_t>& frame) {
    // As a tap's rx lays a large frame out: 2 KiB buffers, headers in the first.
    m_ = test::to_chain(test::test_pool(), frame, 2048);
    return m_;
  }
  rte_mbuf* m_ = nullptr;
};

// --- header → mbuf: accepted ---

TEST_F(VnetHdrTest, NoOffloadLeavesTheFrameAlone) {
  const auto frame = tcp_frame(100);
  rte_mbuf* m = mbuf(frame);
  EXPECT_TRUE(vnet_hdr_to_mbuf(hdr_of({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_OFFLOAD_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK), 0u);
  EXPECT_EQ(test::chain_bytes(m), frame);
}

TEST_F(VnetHdrTest, TcpPartialChecksumBecomesTxTcpCksum) {
  // NEEDS_CSUM, csum_start 34 (0x22), csum_offset 16 (0x10).
  rte_mbuf* m = mbuf(with_partial_checksum(tcp_frame(100), 16));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0x00, 0, 0, 0, 0, 0x22, 0, 0x10, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_EQ(m->l2_len, 14u);
  EXPECT_EQ(m->l3_len, 20u);
  EXPECT_EQ(m->l4_len, 20u);
}

TEST_F(VnetHdrTest, UdpPartialChecksumBecomesTxUdpCksum) {
  rte_mbuf* m = mbuf(with_partial_checksum(udp_frame(30), 6));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0x00, 0, 0, 0, 0, 0x22, 0, 0x06, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(m->l4_len, 8u);
}

TEST_F(VnetHdrTest, Tcpv4GsoBecomesTxTcpSeg) {
  // GSO_TCPV4, hdr_len 54, gso_size 1448 (0x05a8), NEEDS_CSUM at 34/16.
  rte_mbuf* m = mbuf(with_partial_checksum(tcp_frame(4000), 16));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0x01, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK,
            RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_EQ(m->tso_segsz, 1448u);
  EXPECT_EQ(m->l2_len + m->l3_len + m->l4_len, 54u);
}

TEST_F(VnetHdrTest, Tcpv4GsoWithEcnIsAccepted) {
  rte_mbuf* m = mbuf(with_partial_checksum(tcp_frame(4000, test::kTcpAck | test::kTcpCwr), 16));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0x81, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0}), m).ok);
  EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
}

TEST_F(VnetHdrTest, GsoFrameThatFitsOneSegmentIsAPartialChecksumOnly) {
  rte_mbuf* m = mbuf(with_partial_checksum(tcp_frame(1448), 16));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0x01, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
}

TEST_F(VnetHdrTest, DataValidBecomesRxL4CksumGood) {
  rte_mbuf* m = mbuf(tcp_frame(100));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0}), m).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
}

TEST_F(VnetHdrTest, PartialChecksumPodvsDoesNotCarryIsCompletedAtOnce) {
  // An ICMP checksum left partial (csum_start 34, csum_offset 2, field 0): completed in place, so
  // the frame is the one with its checksum computed.
  const auto complete = icmp_frame();
  auto partial = complete;
  partial[36] = partial[37] = 0;
  rte_mbuf* m = mbuf(partial);
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of({0x01, 0, 0, 0, 0, 0, 0x22, 0, 0x02, 0}), m).ok);
  EXPECT_EQ(test::chain_bytes(m), complete);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
}

// --- header → mbuf: rejected, each with its reason ---

struct Malformed {
  const char* name;
  Bytes hdr;
  std::vector<uint8_t> frame;
  DropReason reason;
};

class VnetHdrMalformedTest : public VnetHdrTest, public ::testing::WithParamInterface<Malformed> {};

TEST_P(VnetHdrMalformedTest, IsDroppedWithItsReason) {
  const Malformed& c = GetParam();
  rte_mbuf* m = mbuf(c.frame);
  const VnetHdrVerdict v = vnet_hdr_to_mbuf(hdr_of(c.hdr), m);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, c.reason) << drop_reason_name(v.reason);
  EXPECT_EQ(test::chain_bytes(m), c.frame) << "a rejected frame is not touched";
}

const auto kTcp = with_partial_checksum(tcp_frame(4000), 16);  // 4054 bytes

INSTANTIATE_TEST_SUITE_P(
    Cases, VnetHdrMalformedTest,
    ::testing::Values(Malformed{"gso_size_zero",
                                {0x01, 0x01, 0x36, 0, 0, 0, 0x22, 0, 0x10, 0},
                                kTcp,
                                DropReason::virtio_gso_size_zero},
                      Malformed{"hdr_len_beyond_frame",
                                {0x01, 0x01, 0xd7, 0x0f, 0xa8, 0x05, 0x22, 0, 0x10, 0},
                                kTcp,
                                DropReason::virtio_hdr_len_beyond_frame},  // 4055 > 4054
                      Malformed{"csum_start_beyond_frame",
                                {0x01, 0, 0, 0, 0, 0, 0xd6, 0x0f, 0x00, 0},
                                kTcp,
                                DropReason::virtio_csum_out_of_range},  // 4054 + 0 + 2 > 4054
                      Malformed{"csum_offset_beyond_frame",
                                {0x01, 0, 0, 0, 0, 0, 0x22, 0, 0xb3, 0x0f},
                                kTcp,
                                DropReason::virtio_csum_out_of_range},  // 34 + 4019 + 2 > 4054
                      Malformed{"unknown_gso_type",
                                {0x01, 0x02, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0},
                                kTcp,
                                DropReason::virtio_bad_gso_type},
                      Malformed{"unknown_flag",
                                {0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                kTcp,
                                DropReason::virtio_bad_gso_type},
                      Malformed{"ecn_without_gso",
                                {0x01, 0x80, 0, 0, 0, 0, 0x22, 0, 0x10, 0},
                                kTcp,
                                DropReason::virtio_bad_gso_type},
                      Malformed{"tcpv6_gso",
                                {0x01, 0x04, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0},
                                kTcp,
                                DropReason::virtio_gso_unsupported},
                      Malformed{"udp_fragmentation_offload",
                                {0x01, 0x03, 0x2a, 0, 0xa8, 0x05, 0x22, 0, 0x06, 0},
                                udp_frame(4000),
                                DropReason::virtio_gso_unsupported},
                      Malformed{"udp_l4_segmentation",
                                {0x01, 0x05, 0x2a, 0, 0xa8, 0x05, 0x22, 0, 0x06, 0},
                                udp_frame(4000),
                                DropReason::virtio_gso_unsupported},
                      Malformed{"tcpv4_gso_on_udp",
                                {0x01, 0x01, 0x2a, 0, 0xa8, 0x05, 0x22, 0, 0x06, 0},
                                udp_frame(4000),
                                DropReason::virtio_gso_unsupported},
                      Malformed{"tcpv4_gso_without_partial_checksum",
                                {0, 0x01, 0x36, 0, 0xa8, 0x05, 0, 0, 0, 0},
                                kTcp,
                                DropReason::virtio_gso_unsupported},
                      Malformed{"tcpv4_gso_checksum_not_at_tcp",
                                {0x01, 0x01, 0x36, 0, 0xa8, 0x05, 0x0e, 0, 0x0a, 0},
                                kTcp,
                                DropReason::virtio_gso_unsupported}),
    [](const auto& info) { return std::string(info.param.name); });

// --- mbuf → header ---

TEST_F(VnetHdrTest, TxTcpSegWritesTcpv4Gso) {
  rte_mbuf* m = mbuf(tcp_frame(4000));
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
  m->l2_len = 14;
  m->l3_len = 20;
  m->l4_len = 32;
  m->tso_segsz = 1448;
  EXPECT_EQ(bytes_of(mbuf_to_vnet_hdr(m)),
            (Bytes{0x01, 0x01, 0x42, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0}));
}

TEST_F(VnetHdrTest, TxUdpCksumWritesNeedsCsum) {
  rte_mbuf* m = mbuf(udp_frame(30));
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
  m->l2_len = 14;
  m->l3_len = 24;
  EXPECT_EQ(bytes_of(mbuf_to_vnet_hdr(m)), (Bytes{0x01, 0, 0, 0, 0, 0, 0x26, 0, 0x06, 0}));
}

TEST_F(VnetHdrTest, RxL4CksumGoodWritesDataValid) {
  rte_mbuf* m = mbuf(tcp_frame(100));
  m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  EXPECT_EQ(bytes_of(mbuf_to_vnet_hdr(m)), (Bytes{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(VnetHdrTest, NoFlagsWritesAZeroHeader) {
  rte_mbuf* m = mbuf(tcp_frame(100));
  m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
  EXPECT_EQ(bytes_of(mbuf_to_vnet_hdr(m)), (Bytes{}));
}

TEST_F(VnetHdrTest, ReadThenWriteGivesTheSameHeader) {
  const Bytes gso{0x01, 0x01, 0x36, 0, 0xa8, 0x05, 0x22, 0, 0x10, 0};
  rte_mbuf* m = mbuf(with_partial_checksum(tcp_frame(4000), 16));
  ASSERT_TRUE(vnet_hdr_to_mbuf(hdr_of(gso), m).ok);
  EXPECT_EQ(bytes_of(mbuf_to_vnet_hdr(m)), gso);
}

}  // namespace
}  // namespace podvs
