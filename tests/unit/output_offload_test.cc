// Golden packets through the whole pipeline for the work a packet carries from a port with
// offloads (a tap's super-frames and partial checksums): the output port takes what it can, and
// what it cannot is done before the packet is queued on it.
#include <gtest/gtest.h>

#include <cstring>

#include "offload/virtio_net_hdr.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"
#include "vswitch/pipeline.h"

namespace podvs::test {
namespace {

constexpr uint16_t kMss = 1448;

std::vector<uint8_t> payload(size_t n, size_t from = 0) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>((from + i) * 13 + 1);
  return p;
}

// Pod A → pod B TCP, as pod A sends it (ttl 64) or as pod B must receive it (ttl 63).
std::vector<uint8_t> tcp_frame(bool received, const std::vector<uint8_t>& data, uint32_t seq,
                               uint16_t id, uint8_t flags) {
  return PacketBuilder()
      .eth(received ? kGwMac : kPodAMac, received ? kPodBMac : kGwMac)
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP, received ? 63 : 64)
      .ip_id(id)
      .dont_fragment()
      .tcp(40000, 5201)
      .tcp_seq(seq)
      .tcp_flags(flags)
      .tcp_payload(data)
      .bytes();
}

// As a virtio sender leaves the checksum: the pseudo-header sum, L4 length included.
std::vector<uint8_t> partial(std::vector<uint8_t> f) {
  const uint16_t pseudo =
      rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(f.data() + 14), 0);
  std::memcpy(f.data() + 34 + 16, &pseudo, sizeof(pseudo));
  return f;
}

virtio_net_hdr tcp_hdr(bool gso) {
  virtio_net_hdr h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.csum_start = 34;
  h.csum_offset = 16;
  if (gso) {
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h.hdr_len = 54;
    h.gso_size = kMss;
  }
  return h;
}

class OutputOffloadTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (uint16_t port : {kHostPort, kPodAPort, kPodBPort})
      for (uint16_t i = 0; i < tx_.pending(port); ++i) rte_pktmbuf_free(tx_.packets(port)[i]);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_) << "an mbuf leaked";
  }
  // The fixture's table with pod B's port finishing `offloads` itself.
  void use_table(PortOffloads offloads) {
    table_ = make_table(1, kPodAPort, kPodBPort, kHostPort, offloads);
    cache_.sync(table_->version());
  }
  // Sends `frame` from pod A as a tap hands it over: in 2 KiB buffers, with its virtio header.
  void run(const std::vector<uint8_t>& frame, const virtio_net_hdr& hdr) {
    rte_mbuf* m = to_chain(test_pool(), frame, 2048);
    ASSERT_TRUE(vnet_hdr_to_mbuf(hdr, m).ok);
    BurstContext ctx{*table_, cache_, tx_, *counters_, 0};
    process_burst(kPodAPort, &m, 1, ctx);
  }

  std::unique_ptr<ForwardingTable> table_;
  FlowCache cache_{256};
  TxBuffers tx_;
  std::unique_ptr<WorkerCounters> counters_ = std::make_unique<WorkerCounters>();
  unsigned in_use_before_ = rte_mempool_in_use_count(test_pool());
};

TEST_F(OutputOffloadTest, SuperFrameToAPortWithoutTsoIsSegmented) {
  use_table({});
  run(partial(tcp_frame(false, payload(4000), 7000, 0x42, kTcpAck | kTcpPsh)), tcp_hdr(true));
  ASSERT_EQ(tx_.pending(kPodBPort), 3);
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[0]),
            tcp_frame(true, payload(1448), 7000, 0x42, kTcpAck));
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[1]),
            tcp_frame(true, payload(1448, 1448), 8448, 0x43, kTcpAck));
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[2]),
            tcp_frame(true, payload(1104, 2896), 9896, 0x44, kTcpAck | kTcpPsh));
}

TEST_F(OutputOffloadTest, SuperFrameToAPortWithTsoGoesWhole) {
  use_table({.tso = true, .l4_csum = true});
  const auto in = partial(tcp_frame(false, payload(4000), 7000, 0x42, kTcpAck | kTcpPsh));
  run(in, tcp_hdr(true));
  ASSERT_EQ(tx_.pending(kPodBPort), 1);
  const rte_mbuf* out = tx_.packets(kPodBPort)[0];
  // Forwarded as is: TTL and MACs rewritten, the partial checksum left for pod B's kernel.
  EXPECT_EQ(chain_bytes(out),
            partial(tcp_frame(true, payload(4000), 7000, 0x42, kTcpAck | kTcpPsh)));
  EXPECT_NE(out->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
  EXPECT_EQ(out->tso_segsz, kMss);
}

TEST_F(OutputOffloadTest, PartialChecksumToAPortWithoutChecksumOffloadIsCompleted) {
  use_table({});
  run(partial(tcp_frame(false, payload(1000), 7000, 0x42, kTcpAck)), tcp_hdr(false));
  ASSERT_EQ(tx_.pending(kPodBPort), 1);
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[0]),
            tcp_frame(true, payload(1000), 7000, 0x42, kTcpAck));
  EXPECT_EQ(tx_.packets(kPodBPort)[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
}

TEST_F(OutputOffloadTest, PartialChecksumToAPortWithChecksumOffloadStaysPartial) {
  use_table({.tso = false, .l4_csum = true});
  run(partial(tcp_frame(false, payload(1000), 7000, 0x42, kTcpAck)), tcp_hdr(false));
  ASSERT_EQ(tx_.pending(kPodBPort), 1);
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[0]),
            partial(tcp_frame(true, payload(1000), 7000, 0x42, kTcpAck)));
}

TEST_F(OutputOffloadTest, SuperFrameToAPortWithChecksumOffloadOnlyIsSegmented) {
  use_table({.tso = false, .l4_csum = true});
  run(partial(tcp_frame(false, payload(2000), 7000, 0x42, kTcpAck)), tcp_hdr(true));
  ASSERT_EQ(tx_.pending(kPodBPort), 2);
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[1]),
            tcp_frame(true, payload(552, 1448), 8448, 0x43, kTcpAck));
}

// Plain packets of a burst are handed to the tx buffers together at its end; one that needs
// software work goes its own way at once. Pod B must still see the burst's order: a plain
// segment, a super-frame cut in two, another plain segment (one TCP stream).
TEST_F(OutputOffloadTest, ABurstMixingPlainAndSegmentedPacketsKeepsItsOrder) {
  use_table({});
  const auto first = tcp_frame(false, payload(100), 5000, 0x40, kTcpAck);
  const auto last = tcp_frame(false, payload(100), 9896, 0x44, kTcpAck);
  rte_mbuf* burst[3] = {
      to_mbuf(test_pool(), first),
      to_chain(test_pool(), partial(tcp_frame(false, payload(2000), 7000, 0x42, kTcpAck)), 2048),
      to_mbuf(test_pool(), last)};
  ASSERT_TRUE(vnet_hdr_to_mbuf(tcp_hdr(true), burst[1]).ok);
  BurstContext ctx{*table_, cache_, tx_, *counters_, 0};
  process_burst(kPodAPort, burst, 3, ctx);
  ASSERT_EQ(tx_.pending(kPodBPort), 4);
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[0]),
            tcp_frame(true, payload(100), 5000, 0x40, kTcpAck));
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[1]),
            tcp_frame(true, payload(1448), 7000, 0x42, kTcpAck));
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[2]),
            tcp_frame(true, payload(552, 1448), 8448, 0x43, kTcpAck));
  EXPECT_EQ(chain_bytes(tx_.packets(kPodBPort)[3]),
            tcp_frame(true, payload(100), 9896, 0x44, kTcpAck));
}

}  // namespace
}  // namespace podvs::test
