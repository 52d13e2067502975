// Golden-packet tests of the pipeline with an overlay: a pod's packet to a remote node's pod
// leaves the uplink wrapped in VXLAN; a VXLAN packet from the uplink reaches the local pod
// unwrapped; what the overlay cannot carry is answered or dropped under its reason.
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstring>

#include "offload/virtio_net_hdr.h"
#include "overlay/vxlan_header.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"
#include "vswitch/pipeline.h"

namespace podvs::test {
namespace {

constexpr uint16_t kUplinkPort = 3;
constexpr const char* kUplinkMac = "02:00:00:00:00:01";
constexpr const char* kRemoteVtepMac = "02:00:00:00:00:02";
constexpr const char* kNextHopMac = "02:00:00:00:00:fe";
constexpr const char* kGatewayUnderlayMac = "02:00:00:00:00:fd";

rte_ether_addr ether(const char* text) { return to_rte(*MacAddr::parse(text)); }
rte_be32_t be(const char* text) { return rte_cpu_to_be_32(ip(text)); }

std::vector<uint8_t> vxlan_bytes(uint32_t vni) {
  return {0x08,
          0,
          0,
          0,
          static_cast<uint8_t>(vni >> 16),
          static_cast<uint8_t>(vni >> 8),
          static_cast<uint8_t>(vni),
          0};
}

// `inner` as the remote node (192.168.1.20) sends it to us in VXLAN with `vni`.
std::vector<uint8_t> from_remote_node(const std::vector<uint8_t>& inner, uint32_t vni = 1) {
  const std::vector<uint8_t> header = vxlan_bytes(vni);
  std::vector<uint8_t> payload(header.size() + inner.size());
  std::copy(header.begin(), header.end(), payload.begin());
  std::copy(inner.begin(), inner.end(), payload.begin() + static_cast<long>(header.size()));
  return PacketBuilder()
      .eth(kNextHopMac, kUplinkMac)
      .ipv4("192.168.1.20", "192.168.1.10", IPPROTO_UDP)
      .udp_payload(50000, 4789, payload)
      .no_udp_checksum()
      .bytes();
}

class OverlayPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = make_table();
    OverlayState o;
    o.uplink_port = kUplinkPort;
    o.vtep_mac = ether(kUplinkMac);
    o.node_ip = be("192.168.1.10");
    o.vxlan = VxlanParams{4789, 1, false};
    o.max_inner_ip_len = 1450;
    o.cluster_mask = rte_cpu_to_be_32(0xffff0000u);
    o.cluster_net = be("10.244.0.0");
    RemoteNode resolved{*Ipv4Prefix::parse("10.244.1.0/24"), ether(kRemoteVtepMac), true, {}};
    resolved.outer =
        make_vxlan_outer(o.vxlan, o.vtep_mac, ether(kNextHopMac), o.node_ip, be("192.168.1.20"));
    RemoteNode unresolved{*Ipv4Prefix::parse("10.244.2.0/24"), ether(kRemoteVtepMac), false, {}};
    o.nodes = {resolved, unresolved};
    o.masquerade = true;
    o.gateway_resolved = true;
    o.gateway_mac = ether(kGatewayUnderlayMac);
    o.no_masquerade = {{be("198.51.100.0"), rte_cpu_to_be_32(0xffffff00u)}};
    table_->set_overlay(o);
    cache_.sync(table_->version());
    in_use_before_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    for (uint16_t port : {kHostPort, kPodAPort, kPodBPort, kUplinkPort})
      for (uint16_t i = 0; i < tx_.pending(port); ++i) rte_pktmbuf_free(tx_.packets(port)[i]);
    for (rte_mbuf* m = nullptr; punt_.pop(m);) rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_);
  }

  void run(uint16_t in_port, const std::vector<uint8_t>& frame) {
    rte_mbuf* m = to_mbuf(test_pool(), frame);
    BurstContext ctx{*table_, cache_, tx_, *counters_, 0, &punt_, &conn_, rte_rdtsc()};
    process_burst(in_port, &m, 1, ctx);
  }
  // `frame` as a port with offloads hands it over: headers and the virtio-net header's flags.
  void run_offloaded(uint16_t in_port, const std::vector<uint8_t>& frame,
                     const virtio_net_hdr& hdr) {
    rte_mbuf* m = to_chain(test_pool(), frame, 2048);
    ASSERT_TRUE(vnet_hdr_to_mbuf(hdr, m).ok);
    BurstContext ctx{*table_, cache_, tx_, *counters_, 0, &punt_, &conn_, rte_rdtsc()};
    process_burst(in_port, &m, 1, ctx);
  }
  std::vector<uint8_t> sent(uint16_t port) {
    EXPECT_EQ(tx_.pending(port), 1);
    return tx_.pending(port) == 1 ? from_mbuf(tx_.packets(port)[0]) : std::vector<uint8_t>{};
  }
  uint64_t drops(uint16_t port, DropReason r) {
    return counters_->ports[port].drops[static_cast<size_t>(r)].get();
  }

  std::unique_ptr<ForwardingTable> table_;
  FlowCache cache_{256};
  TxBuffers tx_;
  MbufQueue punt_;
  SharedConnState shared_conn_{1024, 1, rte_get_tsc_hz(), nullptr};
  ConnState conn_{shared_conn_, 0, {40000, 40000}, 1};
  std::unique_ptr<WorkerCounters> counters_ = std::make_unique<WorkerCounters>();
  unsigned in_use_before_ = 0;
};

// The route lookup names the next stage of the graph for each kind of destination.
TEST_F(OverlayPipelineTest, RouteNamesTheNextStage) {
  const ForwardAction local = table_->route(be("10.244.0.3"), kPodAPort);
  EXPECT_EQ(local.next, NextStage::local);
  EXPECT_EQ(local.out_port, kPodBPort);
  const ForwardAction remote = table_->route(be("10.244.1.3"), kPodAPort);
  EXPECT_EQ(remote.next, NextStage::remote_node);
  EXPECT_EQ(remote.out_port, kUplinkPort);
  EXPECT_EQ(remote.remote, 0);
  EXPECT_EQ(table_->route(be("10.244.2.3"), kPodAPort).remote, 1);
  const ForwardAction out = table_->route(be("192.0.2.10"), kPodAPort);
  EXPECT_EQ(out.next, NextStage::masquerade);
  EXPECT_EQ(out.out_port, kUplinkPort);
  EXPECT_EQ(table_->route(be("198.51.100.7"), kPodAPort).next, NextStage::local);  // to the host
  EXPECT_EQ(table_->route(be("10.244.0.77"), kPodAPort).next, NextStage::no_route);
  EXPECT_EQ(table_->route(be("10.244.9.1"), kPodAPort).next, NextStage::no_route);  // no node
  EXPECT_EQ(table_->route(be("10.244.1.3"), kUplinkPort).next, NextStage::no_route);
}

TEST_F(OverlayPipelineTest, PodToRemotePodIsEncapsulatedOutTheUplink) {
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP, 64)
                     .udp(5000, 6000)
                     .bytes());
  const auto inner = PacketBuilder()
                         .eth(kUplinkMac, kRemoteVtepMac)
                         .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP, 63)
                         .udp(5000, 6000)
                         .bytes();
  const auto out = sent(kUplinkPort);
  ASSERT_EQ(out.size(), inner.size() + kVxlanOverhead);
  // Outer Ethernet: our uplink MAC to the next hop's.
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 6), mac(kNextHopMac));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 6, out.begin() + 12), mac(kUplinkMac));
  // Outer IPv4 from our node IP to the remote node's, UDP to 4789, VXLAN VNI 1, then the inner.
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 26, out.begin() + 30),
            (std::vector<uint8_t>{192, 168, 1, 10}));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 30, out.begin() + 34),
            (std::vector<uint8_t>{192, 168, 1, 20}));
  EXPECT_EQ(out[36] * 256 + out[37], 4789);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 42, out.begin() + 50), vxlan_bytes(1));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 50, out.end()), inner);
}

TEST_F(OverlayPipelineTest, VxlanFromTheUplinkReachesTheLocalPod) {
  const auto inner = PacketBuilder()
                         .eth(kRemoteVtepMac, kUplinkMac)
                         .ipv4("10.244.1.3", "10.244.0.3", IPPROTO_UDP, 63)
                         .udp(6000, 5000)
                         .bytes();
  run(kUplinkPort, from_remote_node(inner));
  EXPECT_EQ(sent(kPodBPort), PacketBuilder()
                                 .eth(kGwMac, kPodBMac)
                                 .ipv4("10.244.1.3", "10.244.0.3", IPPROTO_UDP, 62)
                                 .udp(6000, 5000)
                                 .bytes());
}

TEST_F(OverlayPipelineTest, DecapsulatedPacketsAreNeverRoutedOnward) {
  // A remote node may not use us as a router: to another node's pods, or out of the cluster.
  for (const char* dst : {"10.244.2.9", "192.0.2.1"}) {
    const auto inner = PacketBuilder()
                           .eth(kRemoteVtepMac, kUplinkMac)
                           .ipv4("10.244.1.3", dst, IPPROTO_UDP)
                           .udp(6000, 5000)
                           .bytes();
    run(kUplinkPort, from_remote_node(inner));
  }
  EXPECT_EQ(drops(kUplinkPort, DropReason::no_route), 2u);
}

TEST_F(OverlayPipelineTest, WhatTheOverlayCannotCarryIsDroppedUnderItsReason) {
  // Unresolved next hop, unknown address of the cluster, plain IPv4 on the uplink, a wrong VNI.
  run(kPodAPort,
      PacketBuilder().eth(kPodAMac, kGwMac).ipv4("10.244.0.2", "10.244.2.3", 17).udp(1, 2).bytes());
  run(kPodAPort,
      PacketBuilder().eth(kPodAMac, kGwMac).ipv4("10.244.0.2", "10.244.9.3", 17).udp(1, 2).bytes());
  run(kUplinkPort, PacketBuilder()
                       .eth(kNextHopMac, kUplinkMac)
                       .ipv4("192.168.1.20", "192.168.1.10", IPPROTO_UDP)
                       .udp(1, 2)
                       .bytes());
  run(kUplinkPort, from_remote_node(PacketBuilder()
                                        .eth(kRemoteVtepMac, kUplinkMac)
                                        .ipv4("10.244.1.3", "10.244.0.3", IPPROTO_UDP)
                                        .udp(6000, 5000)
                                        .bytes(),
                                    7));
  EXPECT_EQ(drops(kPodAPort, DropReason::neighbour_unresolved), 1u);
  EXPECT_EQ(drops(kPodAPort, DropReason::no_route), 1u);
  EXPECT_EQ(drops(kUplinkPort, DropReason::uplink_not_overlay), 1u);
  EXPECT_EQ(drops(kUplinkPort, DropReason::vxlan_bad_vni), 1u);
}

TEST_F(OverlayPipelineTest, TooBigWithDfGetsFragmentationNeededBack) {
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP)
                     .dont_fragment()
                     .udp(5000, 6000, 1451 - 28)
                     .bytes());
  const auto reply = sent(kPodAPort);
  ASSERT_GE(reply.size(), 14u + 20 + 8);
  EXPECT_EQ(std::vector<uint8_t>(reply.begin(), reply.begin() + 6), mac(kPodAMac));
  EXPECT_EQ(reply[23], IPPROTO_ICMP);
  EXPECT_EQ(reply[34], 3);                       // destination unreachable
  EXPECT_EQ(reply[35], 4);                       // fragmentation needed
  EXPECT_EQ(reply[40] * 256 + reply[41], 1450);  // next-hop MTU
  EXPECT_EQ(counters_->frag_needed_sent.get(), 1u);
}

// A TCP frame whose checksum field holds the pseudo-header sum, as a virtio sender leaves it.
std::vector<uint8_t> partial_tcp(std::vector<uint8_t> f) {
  const uint16_t pseudo =
      rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(f.data() + 14), 0);
  std::memcpy(f.data() + 50, &pseudo, sizeof(pseudo));
  return f;
}

virtio_net_hdr partial_tcp_hdr(uint16_t gso_size) {
  virtio_net_hdr h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.csum_start = 34;
  h.csum_offset = 16;
  if (gso_size != 0) {
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h.hdr_len = 54;
    h.gso_size = gso_size;
  }
  return h;
}

std::vector<uint8_t> pattern(size_t n, size_t from) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>((from + i) * 3 + 11);
  return p;
}

// A super-frame does not fit the overlay MTU, but its segments do: it is cut before it is wrapped
// (the uplink has no tunnel offloads), each segment a complete inner packet.
TEST_F(OverlayPipelineTest, SuperFrameToARemotePodIsSegmentedThenEncapsulated) {
  auto tcp = [](bool out, size_t len, size_t from, uint32_t seq, uint16_t id, uint8_t flags) {
    return PacketBuilder()
        .eth(out ? kUplinkMac : kPodAMac, out ? kRemoteVtepMac : kGwMac)
        .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_TCP, out ? 63 : 64)
        .ip_id(id)
        .dont_fragment()
        .tcp(33000, 80)
        .tcp_seq(seq)
        .tcp_flags(flags)
        .tcp_payload(pattern(len, from))
        .bytes();
  };
  run_offloaded(kPodAPort, partial_tcp(tcp(false, 3000, 0, 500, 9, kTcpAck | kTcpPsh)),
                partial_tcp_hdr(1398));
  ASSERT_EQ(tx_.pending(kUplinkPort), 3);
  const std::vector<std::vector<uint8_t>> inner = {
      tcp(true, 1398, 0, 500, 9, kTcpAck),
      tcp(true, 1398, 1398, 1898, 10, kTcpAck),
      tcp(true, 204, 2796, 3296, 11, kTcpAck | kTcpPsh),
  };
  for (size_t i = 0; i < inner.size(); ++i) {
    const auto out = chain_bytes(tx_.packets(kUplinkPort)[i]);
    ASSERT_EQ(out.size(), inner[i].size() + kVxlanOverhead) << "segment " << i;
    EXPECT_EQ(std::vector<uint8_t>(out.begin() + 50, out.end()), inner[i]) << "segment " << i;
  }
}

// A partial checksum leaving the host is completed after masquerade rewrote the address (the
// pseudo-header sum) and the port (left alone, Linux's rule): the receiver sees a valid checksum.
TEST_F(OverlayPipelineTest, PartialChecksumMasqueradedOutTheUplinkLeavesComplete) {
  run_offloaded(kPodAPort,
                partial_tcp(PacketBuilder()
                                .eth(kPodAMac, kGwMac)
                                .ipv4("10.244.0.2", "203.0.113.1", IPPROTO_TCP, 64)
                                .tcp(5000, 443, 300)
                                .bytes()),
                partial_tcp_hdr(0));
  EXPECT_EQ(chain_bytes(tx_.packets(kUplinkPort)[0]),
            PacketBuilder()
                .eth(kUplinkMac, kGatewayUnderlayMac)
                .ipv4("192.168.1.10", "203.0.113.1", IPPROTO_TCP, 63)
                .tcp(40000, 443, 300)
                .bytes());
  EXPECT_EQ(tx_.packets(kUplinkPort)[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK, 0u);
}

TEST_F(OverlayPipelineTest, LeavingTheClusterIsMasqueradedAndTheReplyTranslatedBack) {
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4("10.244.0.2", "203.0.113.1", IPPROTO_UDP, 64)
                     .udp(5000, 53)
                     .bytes());
  // The only port of the range: 40000.
  EXPECT_EQ(sent(kUplinkPort), PacketBuilder()
                                   .eth(kUplinkMac, kGatewayUnderlayMac)
                                   .ipv4("192.168.1.10", "203.0.113.1", IPPROTO_UDP, 63)
                                   .udp(40000, 53)
                                   .bytes());
  run(kUplinkPort, PacketBuilder()
                       .eth(kGatewayUnderlayMac, kUplinkMac)
                       .ipv4("203.0.113.1", "192.168.1.10", IPPROTO_UDP, 60)
                       .udp(53, 40000)
                       .bytes());
  EXPECT_EQ(sent(kPodAPort), PacketBuilder()
                                 .eth(kGwMac, kPodAMac)
                                 .ipv4("203.0.113.1", "10.244.0.2", IPPROTO_UDP, 59)
                                 .udp(53, 5000)
                                 .bytes());
  EXPECT_EQ(counters_->conntrack_created.get(), 1u);
  // A second connection finds no free port; a reply nobody asked for is not ours.
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4("10.244.0.2", "203.0.113.1", IPPROTO_UDP)
                     .udp(5001, 53)
                     .bytes());
  run(kUplinkPort, PacketBuilder()
                       .eth(kGatewayUnderlayMac, kUplinkMac)
                       .ipv4("203.0.113.1", "192.168.1.10", IPPROTO_UDP)
                       .udp(53, 40001)
                       .bytes());
  EXPECT_EQ(drops(kPodAPort, DropReason::snat_ports_exhausted), 1u);
  EXPECT_EQ(drops(kUplinkPort, DropReason::uplink_not_overlay), 1u);
}

TEST_F(OverlayPipelineTest, NoMasqueradeDestinationsGoToTheHostPort) {
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4("10.244.0.2", "198.51.100.7", IPPROTO_UDP)
                     .udp(5000, 53)
                     .bytes());
  EXPECT_EQ(tx_.pending(kHostPort), 1);
  EXPECT_EQ(tx_.pending(kUplinkPort), 0);
}

TEST_F(OverlayPipelineTest, UplinkArpForOurNodeIpIsAnsweredOtherArpIsPunted) {
  run(kUplinkPort,
      PacketBuilder()
          .eth(kNextHopMac, "ff:ff:ff:ff:ff:ff", RTE_ETHER_TYPE_ARP)
          .arp(RTE_ARP_OP_REQUEST, kNextHopMac, "192.168.1.20", "00:00:00:00:00:00", "192.168.1.10")
          .bytes());
  EXPECT_EQ(sent(kUplinkPort),
            PacketBuilder()
                .eth(kUplinkMac, kNextHopMac, RTE_ETHER_TYPE_ARP)
                .arp(RTE_ARP_OP_REPLY, kUplinkMac, "192.168.1.10", kNextHopMac, "192.168.1.20")
                .bytes());
  run(kUplinkPort,
      PacketBuilder()
          .eth(kNextHopMac, kUplinkMac, RTE_ETHER_TYPE_ARP)
          .arp(RTE_ARP_OP_REPLY, kNextHopMac, "192.168.1.20", kUplinkMac, "192.168.1.10")
          .bytes());
  EXPECT_EQ(punt_.read_available(), 1u);
  EXPECT_EQ(counters_->ports[kUplinkPort].punted.get(), 1u);
}

}  // namespace
}  // namespace podvs::test
