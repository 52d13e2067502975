// Software segmentation and checksum completion as golden packets: a super-frame as a tap hands it
// over (virtio-net header, partial checksum, payload spread over odd-sized buffers) goes in; the
// exact segments Linux would have sent come out, each with checksums the packet builder computed
// on its own.
#include "offload/tcp_segmentation.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>

#include <cstring>
#include <vector>

#include "offload/checksum_completion.h"
#include "offload/virtio_net_hdr.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"
#include "tests/unit/test_eal.h"

namespace podvs {
namespace {

using test::PacketBuilder;

constexpr uint16_t kMss = 1448;
constexpr uint16_t kIpId = 0x1234;
constexpr uint32_t kSeq = 1000;

std::vector<uint8_t> pattern(size_t n, size_t from = 0) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>((from + i) * 7 + 3);
  return p;
}

// A TCP/IPv4 frame with a correct checksum, as the receiver must see it.
std::vector<uint8_t> tcp_frame(const std::vector<uint8_t>& payload, uint32_t seq, uint16_t id,
                               uint8_t flags) {
  return PacketBuilder()
      .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP)
      .ip_id(id)
      .dont_fragment()
      .tcp(40000, 5201)
      .tcp_seq(seq)
      .tcp_flags(flags)
      .tcp_payload(payload)
      .bytes();
}

std::vector<uint8_t> udp_frame(size_t payload) {
  return PacketBuilder()
      .eth("02:00:00:00:00:01", "02:00:00:00:00:fe")
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
      .udp(5353, 53, payload)
      .bytes();
}

// As a virtio sender leaves the checksum: the folded pseudo-header sum, L4 length included.
std::vector<uint8_t> partial(std::vector<uint8_t> frame, size_t field) {
  const uint16_t pseudo =
      rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(frame.data() + 14), 0);
  std::memcpy(frame.data() + 34 + field, &pseudo, sizeof(pseudo));
  return frame;
}

virtio_net_hdr gso_hdr(uint16_t gso_size) {
  virtio_net_hdr h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h.hdr_len = 54;
  h.gso_size = gso_size;
  h.csum_start = 34;
  h.csum_offset = 16;
  return h;
}

class TcpSegmentationTest : public ::testing::Test {
 protected:
  void SetUp() override { avail_ = rte_mempool_avail_count(test::test_pool()); }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_avail_count(test::test_pool()), avail_) << "an mbuf leaked";
  }
  // The super-frame as a tap's rx would hand it over, in buffers of an odd size so that segment
  // boundaries and odd offsets fall inside them.
  rte_mbuf* super_frame(const std::vector<uint8_t>& frame, uint16_t gso_size) {
    rte_mbuf* m = test::to_chain(test::test_pool(), frame, 999);
    EXPECT_TRUE(vnet_hdr_to_mbuf(gso_hdr(gso_size), m).ok);
    return m;
  }
  unsigned avail_ = 0;
};

TEST_F(TcpSegmentationTest, SuperFrameBecomesMssSegmentsWithCorrectHeaders) {
  const auto payload = pattern(4000);
  constexpr uint8_t kIn = test::kTcpAck | test::kTcpPsh | test::kTcpFin | test::kTcpCwr;
  rte_mbuf* m = super_frame(partial(tcp_frame(payload, kSeq, kIpId, kIn), 16), kMss);
  ASSERT_NE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);

  rte_mbuf* out[kMaxGsoSegments];
  ASSERT_EQ(segment_tcp4(m, test::test_pool(), out, kMaxGsoSegments), 3);
  // CWR on the first segment only; PSH and FIN on the last only; ids and sequence numbers count.
  const std::vector<std::vector<uint8_t>> expected = {
      tcp_frame(pattern(1448, 0), kSeq, kIpId, test::kTcpAck | test::kTcpCwr),
      tcp_frame(pattern(1448, 1448), kSeq + 1448, kIpId + 1, test::kTcpAck),
      tcp_frame(pattern(1104, 2896), kSeq + 2896, kIpId + 2,
                test::kTcpAck | test::kTcpPsh | test::kTcpFin),
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(test::chain_bytes(out[i]), expected[i]) << "segment " << i;
    EXPECT_EQ(out[i]->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK), 0u);
    rte_pktmbuf_free(out[i]);
  }
}

TEST_F(TcpSegmentationTest, ExactMultipleOfTheMssLeavesNoShortSegment) {
  const auto payload = pattern(2 * 1000);
  rte_mbuf* m = super_frame(partial(tcp_frame(payload, kSeq, kIpId, test::kTcpAck), 16), 1000);
  rte_mbuf* out[kMaxGsoSegments];
  ASSERT_EQ(segment_tcp4(m, test::test_pool(), out, kMaxGsoSegments), 2);
  EXPECT_EQ(test::chain_bytes(out[0]), tcp_frame(pattern(1000, 0), kSeq, kIpId, test::kTcpAck));
  EXPECT_EQ(test::chain_bytes(out[1]),
            tcp_frame(pattern(1000, 1000), kSeq + 1000, kIpId + 1, test::kTcpAck));
  rte_pktmbuf_free(out[0]);
  rte_pktmbuf_free(out[1]);
}

TEST_F(TcpSegmentationTest, FrameThatFitsOneSegmentIsOnlyChecksummed) {
  const auto whole = tcp_frame(pattern(900), kSeq, kIpId, test::kTcpAck | test::kTcpPsh);
  rte_mbuf* m = test::to_chain(test::test_pool(), partial(whole, 16), 999);
  // Marked for segmentation by a caller, though it fits.
  ASSERT_TRUE(vnet_hdr_to_mbuf(gso_hdr(kMss), m).ok);
  m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
  m->tso_segsz = kMss;
  rte_mbuf* out[kMaxGsoSegments];
  ASSERT_EQ(segment_tcp4(m, test::test_pool(), out, kMaxGsoSegments), 1);
  EXPECT_EQ(out[0], m);
  EXPECT_EQ(test::chain_bytes(m), whole);
  EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK), 0u);
  rte_pktmbuf_free(m);
}

TEST_F(TcpSegmentationTest, TooFewOutputSlotsLeavesTheFrameToTheCaller) {
  const auto input = partial(tcp_frame(pattern(4000), kSeq, kIpId, test::kTcpAck), 16);
  rte_mbuf* m = super_frame(input, kMss);
  rte_mbuf* out[2];
  EXPECT_EQ(segment_tcp4(m, test::test_pool(), out, 2), 0);
  EXPECT_EQ(test::chain_bytes(m), input);
  EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
  rte_pktmbuf_free(m);
}

TEST_F(TcpSegmentationTest, EmptyPoolLeavesTheFrameToTheCaller) {
  // Three segments need a header and at least one payload reference each: six mbufs.
  rte_mempool* tiny = test::make_test_pool("gso_tiny", 4);
  ASSERT_NE(tiny, nullptr);
  const auto input = partial(tcp_frame(pattern(4000), kSeq, kIpId, test::kTcpAck), 16);
  rte_mbuf* m = super_frame(input, kMss);
  rte_mbuf* out[kMaxGsoSegments];
  EXPECT_EQ(segment_tcp4(m, tiny, out, kMaxGsoSegments), 0);
  EXPECT_EQ(test::chain_bytes(m), input);
  EXPECT_EQ(rte_mempool_avail_count(tiny), 4u);
  rte_pktmbuf_free(m);
  rte_mempool_free(tiny);
}

TEST_F(TcpSegmentationTest, PartialTcpChecksumIsCompletedAcrossOddBuffers) {
  const auto whole = tcp_frame(pattern(3001), kSeq, kIpId, test::kTcpAck);
  rte_mbuf* m = test::to_chain(test::test_pool(), partial(whole, 16), 777);
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
  m->l2_len = 14;
  m->l3_len = 20;
  complete_l4_checksum(m);
  EXPECT_EQ(test::chain_bytes(m), whole);
  EXPECT_FALSE(has_partial_l4_checksum(m));
  rte_pktmbuf_free(m);
}

TEST_F(TcpSegmentationTest, PartialUdpChecksumIsCompleted) {
  const auto whole = udp_frame(333);
  rte_mbuf* m = test::to_mbuf(test::test_pool(), partial(whole, 6));
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
  m->l2_len = 14;
  m->l3_len = 20;
  complete_l4_checksum(m);
  EXPECT_EQ(test::from_mbuf(m), whole);
  rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace podvs
