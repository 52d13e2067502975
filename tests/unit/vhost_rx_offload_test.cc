// What rte_vhost leaves of a DPDK pod's virtio-net header (its compliant RX offload flags) becomes
// the same offload fields a tap's header would, or the same drop reasons.
#include "offload/vhost_rx_offload.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>

#include <cstring>
#include <vector>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs {
namespace {

using test::PacketBuilder;

constexpr uint32_t kMaxFrame = 1514;  // a 1500-byte MTU

// The frame as a virtio sender leaves it: its L4 checksum partial (the pseudo-header sum).
std::vector<uint8_t> partial(std::vector<uint8_t> frame, size_t field) {
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame.data() + 14);
  const uint16_t pseudo = rte_ipv4_phdr_cksum(ip, 0);
  std::memcpy(frame.data() + 34 + field, &pseudo, sizeof(pseudo));
  return frame;
}

std::vector<uint8_t> tcp_frame(size_t payload) {
  return partial(PacketBuilder()
                     .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
                     .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP)
                     .tcp(40000, 5201, payload)
                     .tcp_flags(test::kTcpAck)
                     .bytes(),
                 16);
}

std::vector<uint8_t> udp_frame(size_t payload) {
  return partial(PacketBuilder()
                     .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
                     .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
                     .udp(5353, 53, payload)
                     .bytes(),
                 6);
}

class VhostRxOffloadTest : public ::testing::Test {
 protected:
  void TearDown() override { rte_pktmbuf_free(m_); }
  // The mbuf as rte_vhost's dequeue leaves it: 2 KiB buffers chained, its marks in ol_flags.
  rte_mbuf* dequeued(const std::vector<uint8_t>& frame, uint64_t flags, uint16_t segsz = 0) {
    m_ = test::to_chain(test::test_pool(), frame, 2048);
    m_->ol_flags = flags;
    m_->tso_segsz = segsz;
    return m_;
  }
  rte_mbuf* m_ = nullptr;
};

TEST_F(VhostRxOffloadTest, PlainFrameHasNoOffloadsToTake) {
  EXPECT_FALSE(vhost_rx_has_offloads(dequeued(tcp_frame(100), 0)));
  EXPECT_FALSE(vhost_rx_has_offloads(dequeued(tcp_frame(100), RTE_MBUF_F_RX_L4_CKSUM_GOOD)));
}

TEST_F(VhostRxOffloadTest, PartialTcpChecksumBecomesTxTcpCksum) {
  rte_mbuf* m = dequeued(tcp_frame(100), RTE_MBUF_F_RX_L4_CKSUM_NONE);
  ASSERT_TRUE(vhost_rx_has_offloads(m));
  ASSERT_TRUE(vhost_rx_offloads_to_mbuf(m, kMaxFrame).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_IPV4, 0u);
  EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_L4_CKSUM_MASK), 0u);
  EXPECT_EQ(m->l2_len, 14);
  EXPECT_EQ(m->l3_len, 20);
  EXPECT_EQ(m->l4_len, 20);
}

TEST_F(VhostRxOffloadTest, PartialUdpChecksumBecomesTxUdpCksum) {
  rte_mbuf* m = dequeued(udp_frame(200), RTE_MBUF_F_RX_L4_CKSUM_NONE);
  ASSERT_TRUE(vhost_rx_offloads_to_mbuf(m, kMaxFrame).ok);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(m->l4_len, 8);
}

TEST_F(VhostRxOffloadTest, TcpSuperFrameBecomesTxTcpSeg) {
  rte_mbuf* m = dequeued(tcp_frame(20000), RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_LRO, 1400);
  ASSERT_TRUE(vhost_rx_offloads_to_mbuf(m, kMaxFrame).ok);
  EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_LRO, 0u);
  EXPECT_EQ(m->tso_segsz, 1400);
  EXPECT_EQ(m->l2_len + m->l3_len + m->l4_len, 54);
}

TEST_F(VhostRxOffloadTest, UdpSuperFrameIsRefusedAsATapsWouldBe) {
  rte_mbuf* m = dequeued(udp_frame(4000), RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_LRO, 1400);
  const VnetHdrVerdict v = vhost_rx_offloads_to_mbuf(m, kMaxFrame);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, DropReason::virtio_gso_unsupported);
}

// What rte_vhost leaves of a header with a GSO type and gso_size 0: only the partial checksum.
TEST_F(VhostRxOffloadTest, PartialFrameLongerThanTheMtuIsRefused) {
  rte_mbuf* m = dequeued(tcp_frame(1900), RTE_MBUF_F_RX_L4_CKSUM_NONE);
  const VnetHdrVerdict v = vhost_rx_offloads_to_mbuf(m, kMaxFrame);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, DropReason::virtio_oversized_frame);
}

TEST_F(VhostRxOffloadTest, PartialFrameOfExactlyTheMtuIsTaken) {
  EXPECT_TRUE(
      vhost_rx_offloads_to_mbuf(dequeued(tcp_frame(1460), RTE_MBUF_F_RX_L4_CKSUM_NONE), kMaxFrame)
          .ok);
}

TEST_F(VhostRxOffloadTest, PartialChecksumNeitherTcpNorUdpIsRefused) {
  const std::vector<uint8_t> sctp = PacketBuilder()
                                        .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
                                        .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_SCTP)
                                        .bytes();
  std::vector<uint8_t> frame = sctp;
  frame.resize(sctp.size() + 64, 0);  // an SCTP common header and a chunk's worth of bytes
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame.data() + 14);
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(frame.size() - 14));
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  const VnetHdrVerdict v =
      vhost_rx_offloads_to_mbuf(dequeued(frame, RTE_MBUF_F_RX_L4_CKSUM_NONE), kMaxFrame);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, DropReason::virtio_csum_unsupported);
}

}  // namespace
}  // namespace podvs
