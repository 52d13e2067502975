// Golden-packet tests of the whole per-burst pipeline: a frame built byte by byte goes in, the
// exact expected frame comes out on the expected port, or the expected drop is counted.
#include "vswitch/pipeline.h"

#include <gtest/gtest.h>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"

namespace podvs::test {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = make_table();
    cache_.sync(table_->version());
    in_use_before_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    for (uint16_t port : {kHostPort, kPodAPort, kPodBPort})
      for (uint16_t i = 0; i < tx_.pending(port); ++i) rte_pktmbuf_free(tx_.packets(port)[i]);
    // Every mbuf comes back: forwarded ones freed above, dropped ones by drop().
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_);
  }

  void run(uint16_t in_port, const std::vector<std::vector<uint8_t>>& frames) {
    std::vector<rte_mbuf*> pkts;
    for (const auto& f : frames) pkts.push_back(to_mbuf(test_pool(), f));
    BurstContext ctx{*table_, cache_, tx_, *counters_, 0};
    process_burst(in_port, pkts.data(), static_cast<uint16_t>(pkts.size()), ctx);
  }
  std::vector<uint8_t> sent(uint16_t port, uint16_t i = 0) {
    EXPECT_GT(tx_.pending(port), i);
    return tx_.pending(port) > i ? from_mbuf(tx_.packets(port)[i]) : std::vector<uint8_t>{};
  }
  uint64_t drops(uint16_t port, DropReason r) {
    return counters_->ports[port].drops[static_cast<size_t>(r)].get();
  }

  std::unique_ptr<ForwardingTable> table_;
  FlowCache cache_{256};
  TxBuffers tx_;
  std::unique_ptr<WorkerCounters> counters_ = std::make_unique<WorkerCounters>();
  unsigned in_use_before_ = 0;
};

TEST_F(PipelineTest, PodToPodUdpIsRoutedTtlDecrementedAndRewritten) {
  const auto in = PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP, 64)
                      .udp(5000, 6000)
                      .bytes();
  const auto out = PacketBuilder()
                       .eth(kGwMac, kPodBMac)
                       .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP, 63)
                       .udp(5000, 6000)
                       .bytes();
  run(kPodAPort, {in});
  EXPECT_EQ(sent(kPodBPort), out);
  EXPECT_EQ(counters_->ports[kPodAPort].rx_packets.get(), 1u);
  EXPECT_EQ(counters_->ports[kPodAPort].rx_bytes.get(), in.size());
  EXPECT_EQ(counters_->flow_cache_misses.get(), 1u);
}

TEST_F(PipelineTest, SecondPacketOfAFlowHitsTheCache) {
  const auto in = PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP)
                      .tcp(40000, 80)
                      .bytes();
  run(kPodAPort, {in, in});
  EXPECT_EQ(tx_.pending(kPodBPort), 2);
  EXPECT_EQ(sent(kPodBPort, 0), sent(kPodBPort, 1));
  EXPECT_EQ(counters_->flow_cache_hits.get(), 1u);
  EXPECT_EQ(counters_->flow_cache_misses.get(), 1u);
}

TEST_F(PipelineTest, TtlChecksumMatchesFullRecomputationAtEveryTtl) {
  for (int ttl = 2; ttl <= 255; ++ttl) {
    const auto in = PacketBuilder()
                        .eth(kPodAMac, kGwMac)
                        .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_ICMP, static_cast<uint8_t>(ttl))
                        .icmp_echo(static_cast<uint16_t>(ttl * 7), 1)
                        .bytes();
    const auto out =
        PacketBuilder()
            .eth(kGwMac, kPodBMac)
            .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_ICMP, static_cast<uint8_t>(ttl - 1))
            .icmp_echo(static_cast<uint16_t>(ttl * 7), 1)
            .bytes();
    TxBuffers tx;
    rte_mbuf* m = to_mbuf(test_pool(), in);
    BurstContext ctx{*table_, cache_, tx, *counters_, 0};
    process_burst(kPodAPort, &m, 1, ctx);
    ASSERT_EQ(tx.pending(kPodBPort), 1);
    EXPECT_EQ(from_mbuf(tx.packets(kPodBPort)[0]), out) << "ttl " << ttl;
    rte_pktmbuf_free(tx.packets(kPodBPort)[0]);
  }
}

TEST_F(PipelineTest, PodToNodeGoesOutTheHostPort) {
  const auto in = PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.1", IPPROTO_ICMP)
                      .icmp_echo(1, 1)
                      .bytes();
  const auto out = PacketBuilder()
                       .eth(kGwMac, kHostMac)
                       .ipv4("10.244.0.2", "10.244.0.1", IPPROTO_ICMP, 63)
                       .icmp_echo(1, 1)
                       .bytes();
  run(kPodAPort, {in});
  EXPECT_EQ(sent(kHostPort), out);
}

TEST_F(PipelineTest, HostToPod) {
  const auto in = PacketBuilder()
                      .eth(kHostMac, kGwMac)
                      .ipv4("10.244.0.1", "10.244.0.2", IPPROTO_TCP)
                      .tcp(33000, 8080)
                      .bytes();
  const auto out = PacketBuilder()
                       .eth(kGwMac, kPodAMac)
                       .ipv4("10.244.0.1", "10.244.0.2", IPPROTO_TCP, 63)
                       .tcp(33000, 8080)
                       .bytes();
  run(kHostPort, {in});
  EXPECT_EQ(sent(kPodAPort), out);
}

TEST_F(PipelineTest, ArpForGatewayIsAnsweredOnTheIngressPort) {
  const auto req = PacketBuilder()
                       .eth(kPodAMac, "ff:ff:ff:ff:ff:ff", 0x0806)
                       .arp(1, kPodAMac, "10.244.0.2", "00:00:00:00:00:00", "169.254.1.1")
                       .bytes();
  const auto reply = PacketBuilder()
                         .eth(kGwMac, kPodAMac, 0x0806)
                         .arp(2, kGwMac, "169.254.1.1", kPodAMac, "10.244.0.2")
                         .bytes();
  run(kPodAPort, {req});
  EXPECT_EQ(sent(kPodAPort), reply);
}

TEST_F(PipelineTest, SpoofedSourceIsDroppedAndCounted) {
  run(kPodAPort, {PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.3", "10.244.0.1", IPPROTO_UDP)
                      .udp(1, 2)
                      .bytes(),
                  PacketBuilder()
                      .eth(kPodBMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.1", IPPROTO_UDP)
                      .udp(1, 2)
                      .bytes()});
  EXPECT_EQ(drops(kPodAPort, DropReason::spoofed_source), 2u);
  EXPECT_EQ(tx_.pending(kHostPort), 0);
}

TEST_F(PipelineTest, ExpiringTtlUnknownPodAndWrongL2DestinationAreDropped) {
  run(kPodAPort, {PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP, 1)
                      .udp(1, 2)
                      .bytes(),
                  PacketBuilder()
                      .eth(kPodAMac, kGwMac)
                      .ipv4("10.244.0.2", "10.244.0.99", IPPROTO_UDP)
                      .udp(1, 2)
                      .bytes(),
                  PacketBuilder()
                      .eth(kPodAMac, kPodBMac)
                      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
                      .udp(1, 2)
                      .bytes()});
  EXPECT_EQ(drops(kPodAPort, DropReason::ttl_exceeded), 1u);
  EXPECT_EQ(drops(kPodAPort, DropReason::no_route), 1u);
  EXPECT_EQ(drops(kPodAPort, DropReason::l2_dst_not_gateway), 1u);
  EXPECT_EQ(tx_.pending(kPodBPort), 0);
}

TEST_F(PipelineTest, MalformedFramesAmongGoodOnesAreDroppedTheRestForwarded) {
  const auto good = PacketBuilder()
                        .eth(kPodAMac, kGwMac)
                        .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
                        .udp(1, 2)
                        .bytes();
  auto bad_ihl = good;
  bad_ihl[14] = 0x43;
  auto truncated = std::vector<uint8_t>(good.begin(), good.begin() + 20);
  run(kPodAPort, {good, bad_ihl, truncated, good});
  EXPECT_EQ(tx_.pending(kPodBPort), 2);
  EXPECT_EQ(drops(kPodAPort, DropReason::ipv4_bad_ihl), 1u);
  EXPECT_EQ(drops(kPodAPort, DropReason::ipv4_truncated), 1u);
}

}  // namespace
}  // namespace podvs::test
