// Golden-packet tests of Kubernetes Services through the whole pipeline: a pod's (or an outside
// client's) frame to a ClusterIP or NodePort goes in, the exact frame the chosen endpoint receives
// comes out on its port (or VXLAN-wrapped towards its node), and the endpoint's reply comes back
// to the client looking as if the Service itself answered. What a Service cannot take is rejected
// with ICMP or dropped under its reason.
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>
#include <map>
#include <set>

#include "overlay/vxlan_header.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/table_fixture.h"
#include "vswitch/pipeline.h"
#include "vswitch/services/service_table.h"

namespace podvs::test {
namespace {

// Pods A and B are table_fixture's; C and D are two more local pods; port 3 is the uplink.
constexpr uint16_t kUplinkPort = 3, kPodCPort = 4, kPodDPort = 5;
constexpr uint16_t kPorts = 6;
constexpr const char* kPodCMac = "0a:58:0a:f4:00:04";
constexpr const char* kPodDMac = "0a:58:0a:f4:00:05";
constexpr const char* kPodA = "10.244.0.2";
constexpr const char* kPodB = "10.244.0.3";
constexpr const char* kPodC = "10.244.0.4";
constexpr const char* kPodD = "10.244.0.5";
constexpr const char* kHostIp = "10.244.0.1";     // the node's address on the host port
constexpr const char* kRemotePod = "10.244.1.7";  // behind the remote node 192.168.1.20
constexpr const char* kServiceIp = "10.96.0.10";  // the ClusterIP most tests use
constexpr const char* kOtherServiceIp = "10.96.0.11";
constexpr const char* kNodeIp = "192.168.1.10";  // ours, on the underlay
constexpr const char* kOutsideClient = "203.0.113.1";
constexpr const char* kUplinkMac = "02:00:00:00:00:01";
constexpr const char* kRemoteVtepMac = "02:00:00:00:00:02";
constexpr const char* kNextHopMac = "02:00:00:00:00:fe";
constexpr const char* kGatewayUnderlayMac = "02:00:00:00:00:fd";
constexpr uint16_t kSnatPort = 40000;  // the only port of the fixture's SNAT range
constexpr uint32_t kMaglevSize = 251;
constexpr size_t kEthLen = 14;
constexpr uint8_t kIcmpDestUnreachable = 3, kIcmpPortUnreachable = 3;

rte_ether_addr ether_of(const char* text) { return to_rte(*MacAddr::parse(text)); }
rte_be32_t be(const char* text) { return rte_cpu_to_be_32(ip(text)); }

const std::map<uint16_t, const char*> kPodMacs = {
    {kPodAPort, kPodAMac}, {kPodBPort, kPodBMac}, {kPodCPort, kPodCMac}, {kPodDPort, kPodDMac}};
const std::map<std::string, uint16_t> kPodPorts = {
    {kPodA, kPodAPort}, {kPodB, kPodBPort}, {kPodC, kPodCPort}, {kPodD, kPodDPort}};

// A TCP (a SYN, or a SYN-ACK when `syn_ack`) or UDP frame.
std::vector<uint8_t> frame(const char* src_mac, const char* dst_mac, uint8_t proto, const char* src,
                           uint16_t sport, const char* dst, uint16_t dport, uint8_t ttl,
                           bool syn_ack = false) {
  PacketBuilder b;
  b.eth(src_mac, dst_mac).ipv4(src, dst, proto, ttl);
  if (proto == IPPROTO_TCP)
    b.tcp(sport, dport).tcp_flags(syn_ack ? kTcpSyn | kTcpAck : kTcpSyn);
  else
    b.udp(sport, dport);
  return b.bytes();
}

// What a pod on `port` sends (to the gateway, TTL 64), and what reaches it (TTL 63 after one hop).
std::vector<uint8_t> from_pod(uint16_t port, uint8_t proto, const char* src, uint16_t sport,
                              const char* dst, uint16_t dport, bool syn_ack = false) {
  return frame(kPodMacs.at(port), kGwMac, proto, src, sport, dst, dport, 64, syn_ack);
}
std::vector<uint8_t> to_pod(uint16_t port, uint8_t proto, const char* src, uint16_t sport,
                            const char* dst, uint16_t dport, bool syn_ack = false,
                            uint8_t ttl = 63) {
  return frame(kGwMac, kPodMacs.at(port), proto, src, sport, dst, dport, ttl, syn_ack);
}

// The checksums `f` carries equal DPDK's computation from scratch (the golden comparisons hold
// the bytes against PacketBuilder; this holds them against an independent implementation).
void expect_checksums_valid(std::vector<uint8_t> f) {
  ASSERT_GE(f.size(), kEthLen + sizeof(rte_ipv4_hdr));
  auto* ip4 = reinterpret_cast<rte_ipv4_hdr*>(f.data() + kEthLen);
  const rte_be16_t ip_sum = ip4->hdr_checksum;
  ip4->hdr_checksum = 0;
  EXPECT_EQ(rte_ipv4_cksum(ip4), ip_sum) << "IPv4 header checksum";
  ip4->hdr_checksum = ip_sum;
  uint8_t* l4 = f.data() + kEthLen + rte_ipv4_hdr_len(ip4);
  const size_t l4_len = rte_be_to_cpu_16(ip4->total_length) - rte_ipv4_hdr_len(ip4);
  const uint8_t proto = ip4->next_proto_id;
  if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    uint8_t* sum_at = l4 + (proto == IPPROTO_TCP ? offsetof(rte_tcp_hdr, cksum)
                                                 : offsetof(rte_udp_hdr, dgram_cksum));
    rte_be16_t sum;
    std::memcpy(&sum, sum_at, sizeof(sum));
    std::memset(sum_at, 0, sizeof(sum));
    EXPECT_EQ(rte_ipv4_udptcp_cksum(ip4, l4), sum) << "TCP/UDP checksum";
  } else {
    EXPECT_EQ(rte_raw_cksum(l4, l4_len), 0xffff) << "ICMP checksum";
  }
}

// The port unreachable error a ClusterIP answers `sent` (a pod's frame) with: from the ClusterIP,
// quoting the IPv4 header and 8 bytes of what the pod sent.
std::vector<uint8_t> port_unreachable(uint16_t pod_port, const char* pod,
                                      const std::vector<uint8_t>& sent) {
  return PacketBuilder()
      .eth(kGwMac, kPodMacs.at(pod_port))
      .ipv4(kServiceIp, pod, IPPROTO_ICMP, 64)
      .ip_id(0)
      .icmp(kIcmpDestUnreachable, kIcmpPortUnreachable, 0,
            {sent.begin() + kEthLen, sent.begin() + kEthLen + 20 + 8})
      .bytes();
}

// `inner` as the remote node (192.168.1.20) sends it to us in VXLAN with VNI 1, as
// overlay_pipeline_test builds it.
std::vector<uint8_t> from_remote_node(const std::vector<uint8_t>& inner) {
  const std::vector<uint8_t> header = {0x08, 0, 0, 0, 0, 0, 1, 0};
  std::vector<uint8_t> payload(header.size() + inner.size());
  std::copy(header.begin(), header.end(), payload.begin());
  std::copy(inner.begin(), inner.end(), payload.begin() + static_cast<long>(header.size()));
  return PacketBuilder()
      .eth(kNextHopMac, kUplinkMac)
      .ipv4("192.168.1.20", kNodeIp, IPPROTO_UDP)
      .udp_payload(50000, 4789, payload)
      .no_udp_checksum()
      .bytes();
}

ServiceDef::Endpoint ready(const char* addr) { return {be(addr), true, true, false}; }

// A Service on `cluster_ip` with one port and the given endpoints.
ServiceDef service(uint8_t proto, uint16_t port, uint16_t target_port,
                   std::vector<ServiceDef::Endpoint> endpoints, const char* cluster_ip = kServiceIp,
                   uint16_t node_port = 0) {
  ServiceDef def;
  def.cluster_ip = be(cluster_ip);
  def.ports = {{proto, port, target_port, node_port}};
  def.endpoints = std::move(endpoints);
  return def;
}

class ServicePipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    publish();
    in_use_before_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    free_sent();
    for (rte_mbuf* m = nullptr; punt_.pop(m);) rte_pktmbuf_free(m);
    // Every mbuf comes back: sent ones freed above, dropped ones by drop().
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_);
  }

  // A new table version with the current Services (and the overlay once use_overlay() ran), as
  // the control thread publishes it; the worker's flow cache follows the version.
  void publish() {
    std::vector<PortEntry> ports(kDefaultPortCapacity);
    ports[kHostPort] =
        PortEntry{true, true, false, ether_of(kHostMac), 0, PortIo::of_ethdev(kHostPort)};
    for (const auto& [addr, port] : kPodPorts)
      ports[port] = PortEntry{true,
                              false,
                              true,
                              ether_of(kPodMacs.at(port)),
                              be(addr.c_str()),
                              PortIo::of_ethdev(port)};
    std::vector<ForwardingTable::PodRoute> routes;
    for (const auto& [addr, port] : kPodPorts) routes.push_back({ip(addr), port});
    const ForwardingConfig config{*Ipv4Prefix::parse("10.244.0.0/24"), ip(kHostIp),
                                  ip("169.254.1.1"), *MacAddr::parse(kGwMac)};
    table_ =
        std::make_unique<ForwardingTable>(++version_, config, std::move(ports), kHostPort, routes);
    if (overlay_) table_->set_overlay(overlay_state());
    table_->set_services(index_);
    cache_.sync(table_->version());
  }

  // The uplink of overlay_pipeline_test: node IP 192.168.1.10, remote node 192.168.1.20 owning
  // 10.244.1.0/24, masquerade on (as in a real cluster) through the underlay gateway.
  OverlayState overlay_state() const {
    OverlayState o;
    o.uplink_port = kUplinkPort;
    o.vtep_mac = ether_of(kUplinkMac);
    o.node_ip = be(kNodeIp);
    o.vxlan = VxlanParams{4789, 1, false};
    o.max_inner_ip_len = 1450;
    o.cluster_mask = rte_cpu_to_be_32(0xffff0000u);
    o.cluster_net = be("10.244.0.0");
    RemoteNode remote{*Ipv4Prefix::parse("10.244.1.0/24"), ether_of(kRemoteVtepMac), true, {}};
    remote.outer =
        make_vxlan_outer(o.vxlan, o.vtep_mac, ether_of(kNextHopMac), o.node_ip, be("192.168.1.20"));
    o.nodes = {remote};
    o.masquerade = masquerade_;
    o.gateway_resolved = true;
    o.gateway_mac = ether_of(kGatewayUnderlayMac);
    return o;
  }
  void use_overlay() {
    overlay_ = true;
    publish();
  }

  // Adds or replaces (same ClusterIP) a Service and publishes the table, as services_changed does.
  void set_service(const ServiceDef& def) {
    const ServiceCompileParams params{be("10.244.0.0"), be("255.255.255.0"), kMaglevSize,
                                      rte_get_tsc_hz()};
    std::unique_ptr<CompiledService>& slot = compiled_[def.cluster_ip];
    auto next = std::make_unique<CompiledService>(def, params, slot.get(), next_affinity_id_);
    index_ = index_->with_service(*next, slot.get());
    // The old frontends stay alive: the control thread frees them only after a grace period.
    if (slot) retired_.push_back(std::move(slot));
    slot = std::move(next);
    publish();
  }

  // Deletes the Service of `cluster_ip` and publishes the table, as services_changed does.
  void delete_service(const char* cluster_ip) {
    std::unique_ptr<CompiledService>& slot = compiled_[be(cluster_ip)];
    index_ = index_->without_service(*slot);
    retired_.push_back(std::move(slot));
    publish();
  }

  void run(uint16_t in_port, const std::vector<uint8_t>& f) {
    rte_mbuf* m = to_mbuf(test_pool(), f);
    BurstContext ctx{*table_, cache_, *tx_, *counters_, 0, &punt_, &conn_, rte_rdtsc()};
    process_burst(in_port, &m, 1, ctx);
  }

  struct Sent {
    uint16_t port = kNoPort;
    std::vector<uint8_t> frame;
  };
  // The one frame the runs since the last call sent, and its port.
  Sent take() {
    Sent out;
    int count = 0;
    for (uint16_t port = 0; port < kPorts; ++port)
      for (uint16_t i = 0; i < tx_->pending(port); ++i, ++count)
        out = {port, from_mbuf(tx_->packets(port)[i])};
    free_sent();
    EXPECT_EQ(count, 1) << "frames sent";
    return out;
  }
  std::vector<uint8_t> sent(uint16_t port) {
    Sent s = take();
    EXPECT_EQ(s.port, port);
    return s.frame;
  }
  bool nothing_sent() {
    for (uint16_t port = 0; port < kPorts; ++port)
      if (tx_->pending(port) != 0) return false;
    return true;
  }
  void free_sent() {
    for (uint16_t port = 0; port < kPorts; ++port)
      for (uint16_t i = 0; i < tx_->pending(port); ++i) rte_pktmbuf_free(tx_->packets(port)[i]);
    tx_ = std::make_unique<TxBuffers>();
  }
  // Pod A sends UDP from `sport` to kServiceIp:53 (or `dst`); the port it came out of.
  uint16_t udp_from_a(uint16_t sport, const char* dst = kServiceIp) {
    run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, sport, dst, 53));
    return take().port;
  }
  // A source port of pod A whose new UDP connection to kServiceIp:53 lands on `port`, from
  // `next` upwards.
  uint16_t source_port_landing_on(uint16_t port, uint16_t& next) {
    for (int tries = 0; tries < 100; ++tries, ++next)
      if (udp_from_a(next) == port) return next++;
    ADD_FAILURE() << "no source port lands on port " << port;
    return 0;
  }
  uint64_t drops(uint16_t port, DropReason r) {
    return counters_->ports[port].drops[static_cast<size_t>(r)].get();
  }

  std::unique_ptr<ForwardingTable> table_;
  uint64_t version_ = 0;
  bool overlay_ = false;
  bool masquerade_ = true;
  std::shared_ptr<const ServiceIndex> index_ = std::make_shared<ServiceIndex>();
  std::map<rte_be32_t, std::unique_ptr<CompiledService>> compiled_;
  std::vector<std::unique_ptr<CompiledService>> retired_;
  uint32_t next_affinity_id_ = 1;
  FlowCache cache_{256};
  std::unique_ptr<TxBuffers> tx_ = std::make_unique<TxBuffers>();
  MbufQueue punt_;
  ConnState conn_{ConnTrack(1024, rte_get_tsc_hz()), SnatPortAllocator({kSnatPort, kSnatPort}, 1),
                  AffinityTable(1024)};
  std::unique_ptr<WorkerCounters> counters_ = std::make_unique<WorkerCounters>();
  unsigned in_use_before_ = 0;
};

TEST_F(ServicePipelineTest, TcpToAClusterIpReachesTheBackendAndItsReplyComesFromTheService) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodB)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80));
  // Destination translated, source kept, TTL decremented, L2 from the gateway to pod B.
  const auto syn = sent(kPodBPort);
  EXPECT_EQ(syn, to_pod(kPodBPort, IPPROTO_TCP, kPodA, 33000, kPodB, 8080));
  expect_checksums_valid(syn);
  EXPECT_EQ(counters_->conntrack_created.get(), 1u);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kPodA, 33000, true));
  const auto syn_ack = sent(kPodAPort);
  EXPECT_EQ(syn_ack, to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, 33000, true));
  expect_checksums_valid(syn_ack);
}

TEST_F(ServicePipelineTest, UdpFlowKeepsItsBackendAndItsRepliesComeFromTheService) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC), ready(kPodD)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 53));
  const Sent first = take();
  const auto backend = std::find_if(kPodPorts.begin(), kPodPorts.end(),
                                    [&](const auto& p) { return p.second == first.port; });
  ASSERT_NE(backend, kPodPorts.end());
  ASSERT_NE(first.port, kPodAPort);
  const char* backend_ip = backend->first.c_str();
  EXPECT_EQ(first.frame, to_pod(first.port, IPPROTO_UDP, kPodA, 5000, backend_ip, 5353));
  expect_checksums_valid(first.frame);

  // Later packets of the 5-tuple stay on it: one connection, one entry.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(udp_from_a(5000), first.port);
  EXPECT_EQ(counters_->conntrack_created.get(), 1u);

  run(first.port, from_pod(first.port, IPPROTO_UDP, backend_ip, 5353, kPodA, 5000));
  const auto reply = sent(kPodAPort);
  EXPECT_EQ(reply, to_pod(kPodAPort, IPPROTO_UDP, kServiceIp, 53, kPodA, 5000));
  expect_checksums_valid(reply);
}

// A named targetPort resolves per pod: the Service port "http" (target_port 7777, which no endpoint
// uses) is 8080 on pod B and 9090 on pod C, as their EndpointSlice lists it. Each connection is
// translated to its own endpoint's port, and the reply from that port back to the Service's.
ServiceDef named_port_service(uint8_t proto) {
  ServiceDef def = service(proto, 80, 7777, {ready(kPodB), ready(kPodC)});
  def.endpoints[0].target_ports = {8080};
  def.endpoints[1].target_ports = {9090};
  return def;
}
const std::map<uint16_t, std::pair<const char*, uint16_t>> kNamedPortEndpoints = {
    {kPodBPort, {kPodB, 8080}}, {kPodCPort, {kPodC, 9090}}};

TEST_F(ServicePipelineTest, EachEndpointIsReachedOnItsOwnPortForANamedPort) {
  set_service(named_port_service(IPPROTO_TCP));
  std::set<uint16_t> reached;
  for (uint16_t sport = 33000; sport < 33064 && reached.size() < 2; ++sport) {
    run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, sport, kServiceIp, 80));
    const Sent syn = take();
    ASSERT_EQ(kNamedPortEndpoints.count(syn.port), 1u) << "sent out of port " << syn.port;
    const auto [backend, target] = kNamedPortEndpoints.at(syn.port);
    EXPECT_EQ(syn.frame, to_pod(syn.port, IPPROTO_TCP, kPodA, sport, backend, target));
    expect_checksums_valid(syn.frame);

    run(syn.port, from_pod(syn.port, IPPROTO_TCP, backend, target, kPodA, sport, true));
    const auto syn_ack = sent(kPodAPort);
    EXPECT_EQ(syn_ack, to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, sport, true));
    expect_checksums_valid(syn_ack);
    reached.insert(syn.port);
  }
  EXPECT_EQ(reached.size(), 2u) << "64 connections reached one endpoint only";
}

// A table republished with the same endpoints keeps the connection: revalidation looks the
// endpoint up by its own port, not the Service port's target_port.
TEST_F(ServicePipelineTest, NamedPortConnectionSurvivesARepublishedTable) {
  set_service(named_port_service(IPPROTO_UDP));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 80));
  const Sent first = take();
  ASSERT_EQ(kNamedPortEndpoints.count(first.port), 1u);
  const auto [backend, target] = kNamedPortEndpoints.at(first.port);
  EXPECT_EQ(first.frame, to_pod(first.port, IPPROTO_UDP, kPodA, 5000, backend, target));

  set_service(named_port_service(IPPROTO_UDP));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 80));
  EXPECT_EQ(sent(first.port), to_pod(first.port, IPPROTO_UDP, kPodA, 5000, backend, target));
  EXPECT_EQ(counters_->conntrack_created.get(), 1u) << "the connection was forgotten";
  run(first.port, from_pod(first.port, IPPROTO_UDP, backend, target, kPodA, 5000));
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_UDP, kServiceIp, 80, kPodA, 5000));
}

// ClientIP affinity remembers the endpoint with its own port: every connection of the client
// lands on the same pod and the port that pod serves the named port on.
TEST_F(ServicePipelineTest, AffinityKeepsTheEndpointsOwnPort) {
  ServiceDef sticky = named_port_service(IPPROTO_UDP);
  sticky.client_ip_affinity = true;
  set_service(sticky);
  std::set<uint16_t> delivered;
  for (uint16_t sport = 6000; sport < 6020; ++sport) {
    run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, sport, kServiceIp, 80));
    const Sent s = take();
    ASSERT_EQ(kNamedPortEndpoints.count(s.port), 1u);
    const auto [backend, target] = kNamedPortEndpoints.at(s.port);
    EXPECT_EQ(s.frame, to_pod(s.port, IPPROTO_UDP, kPodA, sport, backend, target));
    delivered.insert(s.port);
  }
  EXPECT_EQ(delivered.size(), 1u);
}

TEST_F(ServicePipelineTest, NewConnectionsSpreadOverTheEndpoints) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC), ready(kPodD)}));
  std::map<uint16_t, int> per_port;
  for (uint16_t sport = 5000; sport < 5060; ++sport) ++per_port[udp_from_a(sport)];
  // Maglev over three equal backends: each takes some of 60 connections (a third on average).
  EXPECT_EQ(per_port.size(), 3u);
  for (uint16_t port : {kPodBPort, kPodCPort, kPodDPort}) EXPECT_GE(per_port[port], 8) << port;
  EXPECT_EQ(counters_->conntrack_created.get(), 60u);
}

// A pod that is its Service's only endpoint and connects to it would see its own address as the
// source and answer itself directly: the source becomes the node's host IP, so the reply comes
// back through the switch to be translated.
TEST_F(ServicePipelineTest, HairpinConnectionIsSourceTranslatedToTheHostIp) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodA)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80));
  const auto in = sent(kPodAPort);
  EXPECT_EQ(in, to_pod(kPodAPort, IPPROTO_TCP, kHostIp, kSnatPort, kPodA, 8080));
  expect_checksums_valid(in);

  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 8080, kHostIp, kSnatPort, true));
  const auto reply = sent(kPodAPort);
  EXPECT_EQ(reply, to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, 33000, true));
  expect_checksums_valid(reply);
}

TEST_F(ServicePipelineTest, ServiceWithoutEndpointsAnswersPortUnreachable) {
  ServiceDef def = service(IPPROTO_TCP, 80, 8080, {ready(kPodB)});
  def.endpoints[0].ready = def.endpoints[0].serving = false;  // not ready: none may take it
  set_service(def);
  const auto syn = from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80);
  run(kPodAPort, syn);
  const auto error = sent(kPodAPort);
  EXPECT_EQ(error, port_unreachable(kPodAPort, kPodA, syn));
  expect_checksums_valid(error);
  EXPECT_EQ(drops(kPodAPort, DropReason::service_no_endpoints), 1u);
  EXPECT_EQ(counters_->conntrack_created.get(), 0u);
}

TEST_F(ServicePipelineTest, PortTheServiceLacksAnswersPortUnreachable) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}));
  // Another port, and the Service's port number with the other protocol.
  const auto udp = from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 54);
  const auto tcp = from_pod(kPodAPort, IPPROTO_TCP, kPodA, 5000, kServiceIp, 53);
  run(kPodAPort, udp);
  EXPECT_EQ(sent(kPodAPort), port_unreachable(kPodAPort, kPodA, udp));
  run(kPodAPort, tcp);
  EXPECT_EQ(sent(kPodAPort), port_unreachable(kPodAPort, kPodA, tcp));
  EXPECT_EQ(drops(kPodAPort, DropReason::service_port_unknown), 2u);
}

TEST_F(ServicePipelineTest, PingToAClusterIpIsDropped) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}));
  run(kPodAPort, PacketBuilder()
                     .eth(kPodAMac, kGwMac)
                     .ipv4(kPodA, kServiceIp, IPPROTO_ICMP)
                     .icmp_echo(7, 1)
                     .bytes());
  EXPECT_TRUE(nothing_sent());
  EXPECT_EQ(drops(kPodAPort, DropReason::service_unsupported), 1u);
}

// A UDP client with a fixed source port must not keep sending into a removed endpoint: its
// connection is dropped at the next table version and balanced afresh. Connections on the
// endpoints that stay keep their entries.
TEST_F(ServicePipelineTest, RemovedEndpointsConnectionMovesOthersStay) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC), ready(kPodD)}));
  uint16_t next = 5000;
  const uint16_t on_c = source_port_landing_on(kPodCPort, next);
  const uint16_t on_b = source_port_landing_on(kPodBPort, next);
  const uint64_t created = counters_->conntrack_created.get();

  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodD)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, on_c, kServiceIp, 53));
  const Sent moved = take();
  EXPECT_TRUE(moved.port == kPodBPort || moved.port == kPodDPort) << moved.port;
  EXPECT_EQ(counters_->conntrack_created.get(), created + 1);
  EXPECT_EQ(udp_from_a(on_b), kPodBPort);
  EXPECT_EQ(counters_->conntrack_created.get(), created + 1);
}

TEST_F(ServicePipelineTest, TerminatingEndpointKeepsItsConnectionsButGetsNoNewOnes) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC)}));
  uint16_t next = 5000;
  const uint16_t on_c = source_port_landing_on(kPodCPort, next);

  ServiceDef def = service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC)});
  def.endpoints[1] = {be(kPodC), false, true, true};  // C terminates, still serving
  set_service(def);
  EXPECT_EQ(udp_from_a(on_c), kPodCPort);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(udp_from_a(next++), kPodBPort);
}

TEST_F(ServicePipelineTest, ClientIpAffinityKeepsAClientOnOneBackend) {
  ServiceDef sticky = service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC), ready(kPodD)});
  sticky.client_ip_affinity = true;
  set_service(sticky);
  set_service(
      service(IPPROTO_UDP, 53, 5353, {ready(kPodB), ready(kPodC), ready(kPodD)}, kOtherServiceIp));
  // 30 connections to each: the sticky Service sends all to one backend, the other spreads them
  // (the control: these source ports do spread). Different source ports for the two Services:
  // see SameSourcePortToTwoServicesWithTheSameBackend.
  std::set<uint16_t> sticky_ports, spread_ports;
  for (uint16_t sport = 6000; sport < 6030; ++sport) {
    sticky_ports.insert(udp_from_a(sport));
    spread_ports.insert(udp_from_a(sport + 1000, kOtherServiceIp));
  }
  EXPECT_EQ(sticky_ports.size(), 1u);
  EXPECT_EQ(spread_ports.size(), 3u);
}

// Two Services with the same endpoint and target port (a Service and its canary, say): a client
// reusing one source port for both (Linux does, towards different destinations) gets two
// connections whose replies would look identical on the wire. Both must go through: the second
// gets another source port (the client's address stays) so that the replies can be told apart.
TEST_F(ServicePipelineTest, SameSourcePortToTwoServicesWithTheSameBackend) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}));
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}, kOtherServiceIp));
  EXPECT_EQ(udp_from_a(5000), kPodBPort);
  EXPECT_EQ(udp_from_a(5000, kOtherServiceIp), kPodBPort);
  EXPECT_EQ(drops(kPodAPort, DropReason::conntrack_full), 0u);
}

// The backend's port unreachable quotes the packet it got (to itself); pod A must see an error
// from the ClusterIP quoting the packet it sent (to the ClusterIP), or its socket won't match it.
TEST_F(ServicePipelineTest, IcmpErrorFromTheBackendReachesTheClientTranslated) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 53));
  const auto received = sent(kPodBPort);
  const auto quote = [](const std::vector<uint8_t>& f) {
    return std::vector<uint8_t>(f.begin() + kEthLen, f.begin() + kEthLen + 20 + 8);
  };
  run(kPodBPort, PacketBuilder()
                     .eth(kPodBMac, kGwMac)
                     .ipv4(kPodB, kPodA, IPPROTO_ICMP)
                     .icmp(kIcmpDestUnreachable, kIcmpPortUnreachable, 0, quote(received))
                     .bytes());
  // What pod A sent, after the one hop it had taken when B got it.
  const auto as_sent = to_pod(kPodBPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 53);
  const auto error = sent(kPodAPort);
  EXPECT_EQ(error, PacketBuilder()
                       .eth(kGwMac, kPodAMac)
                       .ipv4(kServiceIp, kPodA, IPPROTO_ICMP, 63)
                       .icmp(kIcmpDestUnreachable, kIcmpPortUnreachable, 0, quote(as_sent))
                       .bytes());
  expect_checksums_valid(error);
}

// The reply's flow was seen before as plain pod-to-pod traffic (B answering A directly with the
// same addresses and ports), so the flow cache holds a plain decision for it. Once A reaches B
// through the Service, that decision must not let B's reply through untranslated.
TEST_F(ServicePipelineTest, ReplyIsTranslatedDespiteAnEarlierPlainFlowWithItsTuple) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodB)}));
  const auto b_to_a = from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kPodA, 33000, true);
  run(kPodBPort, b_to_a);
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kPodB, 8080, kPodA, 33000, true));

  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80));
  EXPECT_EQ(sent(kPodBPort), to_pod(kPodBPort, IPPROTO_TCP, kPodA, 33000, kPodB, 8080));
  run(kPodBPort, b_to_a);
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, 33000, true));
}

// With an overlay: ClusterIPs lie outside the cluster's pod network, where masquerade sends
// other traffic; a ClusterIP must still be balanced, not masqueraded out the uplink.
TEST_F(ServicePipelineTest, ClusterIpIsBalancedWhenMasqueradeIsOn) {
  use_overlay();
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodB)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80));
  EXPECT_EQ(sent(kPodBPort), to_pod(kPodBPort, IPPROTO_TCP, kPodA, 33000, kPodB, 8080));
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kPodA, 33000, true));
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, 33000, true));
}

TEST_F(ServicePipelineTest, BackendOnARemoteNodeIsReachedThroughVxlan) {
  use_overlay();
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kRemotePod)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 80));
  const auto out = sent(kUplinkPort);
  const auto inner =
      frame(kUplinkMac, kRemoteVtepMac, IPPROTO_TCP, kPodA, 33000, kRemotePod, 8080, 63);
  ASSERT_EQ(out.size(), inner.size() + kVxlanOverhead);
  // Outer IPv4 to the remote node; the inner frame DNATed.
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 30, out.begin() + 34),
            (std::vector<uint8_t>{192, 168, 1, 20}));
  const std::vector<uint8_t> got_inner(out.begin() + kVxlanOverhead, out.end());
  EXPECT_EQ(got_inner, inner);
  expect_checksums_valid(got_inner);

  // The reply, VXLAN from the remote node.
  run(kUplinkPort, from_remote_node(frame(kRemoteVtepMac, kUplinkMac, IPPROTO_TCP, kRemotePod, 8080,
                                          kPodA, 33000, 63, true)));
  const auto reply = sent(kPodAPort);
  EXPECT_EQ(reply, to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 80, kPodA, 33000, true, 62));
  expect_checksums_valid(reply);
}

// The uplink's MTU leaves room for 1450 bytes of inner IPv4. A DF packet that would not fit once
// wrapped gets "fragmentation needed" quoting what the client sent (to the ClusterIP, before
// translation), or the client's kernel would not match it to its socket.
TEST_F(ServicePipelineTest, TooBigForTheTunnelToARemoteBackendQuotesTheClusterIp) {
  use_overlay();
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kRemotePod)}));
  const auto big = PacketBuilder()
                       .eth(kPodAMac, kGwMac)
                       .ipv4(kPodA, kServiceIp, IPPROTO_UDP)
                       .dont_fragment()
                       .udp(5000, 53, 1451 - 28)
                       .bytes();
  run(kPodAPort, big);
  const auto error = sent(kPodAPort);
  ASSERT_GE(error.size(), kEthLen + 20 + 8 + 28);
  EXPECT_EQ(error[kEthLen + 20], 3);                                 // unreachable
  EXPECT_EQ(error[kEthLen + 21], 4);                                 // fragmentation needed
  EXPECT_EQ(error[kEthLen + 26] * 256 + error[kEthLen + 27], 1450);  // next-hop MTU
  EXPECT_EQ(std::vector<uint8_t>(error.begin() + kEthLen + 28, error.begin() + kEthLen + 56),
            std::vector<uint8_t>(big.begin() + kEthLen, big.begin() + kEthLen + 28));
  expect_checksums_valid(error);
  EXPECT_EQ(counters_->frag_needed_sent.get(), 1u);
}

class NodePortTest : public ServicePipelineTest {
 protected:
  // tcp 80 → 8080 with NodePort 30080, endpoints pod B and a remote pod.
  void SetUp() override {
    ServicePipelineTest::SetUp();
    use_overlay();
  }
  void set_node_port_service(bool external_local) {
    ServiceDef def =
        service(IPPROTO_TCP, 80, 8080, {ready(kPodB), ready(kRemotePod)}, kServiceIp, 30080);
    def.external_local = external_local;
    if (!external_local) def.endpoints.pop_back();  // so that the test knows the backend
    set_service(def);
  }
  // Plain IPv4 from a client outside the cluster, through the underlay gateway, to our node IP.
  static std::vector<uint8_t> from_outside(uint8_t ttl = 60) {
    return frame(kGatewayUnderlayMac, kUplinkMac, IPPROTO_TCP, kOutsideClient, 40500, kNodeIp,
                 30080, ttl);
  }
  // The reply as it must leave: from our node IP and the NodePort, to the underlay gateway.
  static std::vector<uint8_t> reply_outside() {
    return frame(kUplinkMac, kGatewayUnderlayMac, IPPROTO_TCP, kNodeIp, 30080, kOutsideClient,
                 40500, 63, true);
  }
};

TEST_F(NodePortTest, LocalPolicyReachesALocalPodWithTheClientsAddress) {
  set_node_port_service(true);
  run(kUplinkPort, from_outside());
  const auto in = sent(kPodBPort);
  EXPECT_EQ(in, to_pod(kPodBPort, IPPROTO_TCP, kOutsideClient, 40500, kPodB, 8080, false, 59));
  expect_checksums_valid(in);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kOutsideClient, 40500, true));
  const auto out = sent(kUplinkPort);
  EXPECT_EQ(out, reply_outside());
  expect_checksums_valid(out);
}

// The reply of a Local NodePort connection goes to an address outside the cluster, which the
// plain route masquerades. A new table version empties the flow cache; the reply's next packet
// must still be translated by its Service connection, not masqueraded afresh.
TEST_F(NodePortTest, LocalPolicyReplyIsTranslatedAfterANewTableVersion) {
  set_node_port_service(true);
  run(kUplinkPort, from_outside());
  EXPECT_EQ(take().port, kPodBPort);
  publish();
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kOutsideClient, 40500, true));
  EXPECT_EQ(sent(kUplinkPort), reply_outside());
}

TEST_F(NodePortTest, ClusterPolicyShowsThePodTheHostIp) {
  set_node_port_service(false);
  run(kUplinkPort, from_outside());
  const auto in = sent(kPodBPort);
  EXPECT_EQ(in, to_pod(kPodBPort, IPPROTO_TCP, kHostIp, kSnatPort, kPodB, 8080, false, 59));
  expect_checksums_valid(in);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kHostIp, kSnatPort, true));
  const auto out = sent(kUplinkPort);
  EXPECT_EQ(out, reply_outside());
  expect_checksums_valid(out);
}

// Cluster policy with the endpoint on another node: the connection goes on through VXLAN with
// our host IP as source, so the remote pod's reply comes back to us to be translated.
TEST_F(NodePortTest, ClusterPolicyToARemoteBackendComesBackThroughUs) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kRemotePod)}, kServiceIp, 30080));
  run(kUplinkPort, from_outside());
  const auto out = sent(kUplinkPort);
  const auto inner =
      frame(kUplinkMac, kRemoteVtepMac, IPPROTO_TCP, kHostIp, kSnatPort, kRemotePod, 8080, 59);
  ASSERT_EQ(out.size(), inner.size() + kVxlanOverhead);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + kVxlanOverhead, out.end()), inner);

  const auto reply_inner = frame(kRemoteVtepMac, kUplinkMac, IPPROTO_TCP, kRemotePod, 8080, kHostIp,
                                 kSnatPort, 64, true);
  run(kUplinkPort, from_remote_node(reply_inner));
  EXPECT_EQ(sent(kUplinkPort), reply_outside());
}

// Masquerade off (or the client in no_masquerade_cidrs): the plain route to the outside client is
// the host port, yet the answer of a connection that came through the uplink goes back that way.
TEST_F(NodePortTest, ReplyGoesBackThroughTheUplinkWithoutMasquerade) {
  masquerade_ = false;
  publish();
  set_node_port_service(true);
  run(kUplinkPort, from_outside());
  EXPECT_EQ(take().port, kPodBPort);
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kOutsideClient, 40500, true));
  EXPECT_EQ(sent(kUplinkPort), reply_outside());
}

class OverlayServiceTest : public ServicePipelineTest {
 protected:
  void SetUp() override {
    ServicePipelineTest::SetUp();
    use_overlay();
  }
};

// Once the Service is gone, its ClusterIP is an outside address like any other (masqueraded as
// before the Service existed): the connection it left in conntrack must not DNAT the client's
// next packet to the old endpoint and send it to the underlay gateway.
TEST_F(OverlayServiceTest, ADeletedServiceNoLongerTranslates) {
  set_service(service(IPPROTO_UDP, 53, 5353, {ready(kPodB)}));
  EXPECT_EQ(udp_from_a(5000), kPodBPort);
  delete_service(kServiceIp);
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_UDP, kPodA, 5000, kServiceIp, 53));
  const auto out = sent(kUplinkPort);
  ASSERT_GE(out.size(), kEthLen + 20);
  const auto* ip4 = reinterpret_cast<const rte_ipv4_hdr*>(out.data() + kEthLen);
  EXPECT_EQ(ip4->dst_addr, be(kServiceIp));
  EXPECT_EQ(ip4->src_addr, be(kNodeIp));
}

// An endpoint outside the cluster (the API server behind the underlay gateway, say) cannot answer
// a pod address: the connection leaves from the node IP and its reply comes back translated.
TEST_F(OverlayServiceTest, AnEndpointOutsideTheClusterIsReachedFromTheNodeIp) {
  set_service(service(IPPROTO_TCP, 443, 6443, {ready("198.51.100.5")}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 443));
  const auto out = sent(kUplinkPort);
  EXPECT_EQ(out, frame(kUplinkMac, kGatewayUnderlayMac, IPPROTO_TCP, kNodeIp, kSnatPort,
                       "198.51.100.5", 6443, 63));
  expect_checksums_valid(out);

  run(kUplinkPort, frame(kGatewayUnderlayMac, kUplinkMac, IPPROTO_TCP, "198.51.100.5", 6443,
                         kNodeIp, kSnatPort, 60, true));
  const auto back = sent(kPodAPort);
  EXPECT_EQ(back, to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 443, kPodA, 33000, true, 59));
  expect_checksums_valid(back);
}

constexpr const char* kExternalIp = "203.0.113.50";
constexpr const char* kGatewayIp = "169.254.1.1";
constexpr const char* kApiServer = "192.0.2.10";  // an address of the node's own stack

// What the node's stack sends on the host port (to the gateway MAC it resolved as its next hop to
// the service CIDR, or to a pod's MAC answer: both are the gateway MAC), and what reaches it.
std::vector<uint8_t> from_host(uint8_t proto, const char* src, uint16_t sport, const char* dst,
                               uint16_t dport, bool syn_ack = false) {
  return frame(kHostMac, kGwMac, proto, src, sport, dst, dport, 64, syn_ack);
}
std::vector<uint8_t> to_host(uint8_t proto, const char* src, uint16_t sport, const char* dst,
                             uint16_t dport, bool syn_ack = false) {
  return frame(kGwMac, kHostMac, proto, src, sport, dst, dport, 63, syn_ack);
}

class ExternalIpTest : public ServicePipelineTest {
 protected:
  void SetUp() override {
    ServicePipelineTest::SetUp();
    use_overlay();
  }
  // tcp 80 → 8080 on kServiceIp and kExternalIp, endpoint pod B.
  void set_external_service(bool external_local) {
    ServiceDef def = service(IPPROTO_TCP, 80, 8080, {ready(kPodB)});
    def.external_ips = {be(kExternalIp)};
    def.external_local = external_local;
    set_service(def);
  }
  // A client outside the cluster, through the underlay gateway, to the external IP.
  static std::vector<uint8_t> from_outside(uint16_t dport = 80) {
    return frame(kGatewayUnderlayMac, kUplinkMac, IPPROTO_TCP, kOutsideClient, 40500, kExternalIp,
                 dport, 60);
  }
  static std::vector<uint8_t> reply_outside() {
    return frame(kUplinkMac, kGatewayUnderlayMac, IPPROTO_TCP, kExternalIp, 80, kOutsideClient,
                 40500, 63, true);
  }
};

TEST_F(ExternalIpTest, LocalPolicyFromOutsideKeepsTheClientsAddress) {
  set_external_service(true);
  run(kUplinkPort, from_outside());
  const auto in = sent(kPodBPort);
  EXPECT_EQ(in, to_pod(kPodBPort, IPPROTO_TCP, kOutsideClient, 40500, kPodB, 8080, false, 59));
  expect_checksums_valid(in);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kOutsideClient, 40500, true));
  const auto out = sent(kUplinkPort);
  EXPECT_EQ(out, reply_outside());
  expect_checksums_valid(out);
}

TEST_F(ExternalIpTest, ClusterPolicyFromOutsideShowsThePodTheHostIp) {
  set_external_service(false);
  run(kUplinkPort, from_outside());
  const auto in = sent(kPodBPort);
  EXPECT_EQ(in, to_pod(kPodBPort, IPPROTO_TCP, kHostIp, kSnatPort, kPodB, 8080, false, 59));
  expect_checksums_valid(in);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kHostIp, kSnatPort, true));
  EXPECT_EQ(sent(kUplinkPort), reply_outside());
}

// Without masquerade the plain route to the outside client is the host port; the answer still
// leaves where the connection came in.
TEST_F(ExternalIpTest, ReplyGoesBackThroughTheUplinkWithoutMasquerade) {
  masquerade_ = false;
  publish();
  set_external_service(true);
  run(kUplinkPort, from_outside());
  EXPECT_EQ(take().port, kPodBPort);
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kOutsideClient, 40500, true));
  EXPECT_EQ(sent(kUplinkPort), reply_outside());
}

// A pod reaches the external IP as kube-proxy serves it: balanced like the ClusterIP, the source
// translated under policy Cluster, the reply from the external IP.
TEST_F(ExternalIpTest, APodReachesTheExternalIp) {
  set_external_service(false);
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kExternalIp, 80));
  EXPECT_EQ(sent(kPodBPort), to_pod(kPodBPort, IPPROTO_TCP, kHostIp, kSnatPort, kPodB, 8080));
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kHostIp, kSnatPort, true));
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kExternalIp, 80, kPodA, 33000, true));
}

// An external IP is not the Service's alone: its other ports are plain traffic, here masqueraded
// out of the cluster, not rejected as a ClusterIP's would be.
TEST_F(ExternalIpTest, OtherPortsOfTheExternalIpAreNotTheServices) {
  set_external_service(false);
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kExternalIp, 22));
  EXPECT_EQ(sent(kUplinkPort), frame(kUplinkMac, kGatewayUnderlayMac, IPPROTO_TCP, kNodeIp,
                                     kSnatPort, kExternalIp, 22, 63));
  EXPECT_EQ(drops(kPodAPort, DropReason::service_port_unknown), 0u);
}

TEST_F(ExternalIpTest, ADeletedServiceFreesItsExternalIp) {
  set_external_service(true);
  delete_service(kServiceIp);
  run(kUplinkPort, from_outside());
  // Plain IPv4 on the uplink that is no Service's and no masqueraded reply.
  EXPECT_TRUE(nothing_sent());
  EXPECT_EQ(drops(kUplinkPort, DropReason::uplink_not_overlay), 1u);
}

// The node's own stack (kubelet, host-network pods) on the host port reaches a ClusterIP as a pod
// does: balanced, its own source kept (a pod answers it on the host port), the reply from the
// ClusterIP.
TEST_F(ServicePipelineTest, TheNodeReachesAClusterIpThroughTheHostPort) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodB)}));
  run(kHostPort, from_host(IPPROTO_TCP, kHostIp, 45000, kServiceIp, 80));
  const auto in = sent(kPodBPort);
  EXPECT_EQ(in, to_pod(kPodBPort, IPPROTO_TCP, kHostIp, 45000, kPodB, 8080));
  expect_checksums_valid(in);

  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kHostIp, 45000, true));
  const auto reply = sent(kHostPort);
  EXPECT_EQ(reply, to_host(IPPROTO_TCP, kServiceIp, 80, kHostIp, 45000, true));
  expect_checksums_valid(reply);
}

// The same with an overlay whose cluster CIDR holds the host IP: the node's address is still the
// node's, not an unowned pod address.
TEST_F(OverlayServiceTest, TheNodeReachesAClusterIpInsideTheClusterCidr) {
  set_service(service(IPPROTO_TCP, 80, 8080, {ready(kPodB)}));
  run(kHostPort, from_host(IPPROTO_TCP, kHostIp, 45000, kServiceIp, 80));
  EXPECT_EQ(sent(kPodBPort), to_pod(kPodBPort, IPPROTO_TCP, kHostIp, 45000, kPodB, 8080));
  run(kPodBPort, from_pod(kPodBPort, IPPROTO_TCP, kPodB, 8080, kHostIp, 45000, true));
  EXPECT_EQ(sent(kHostPort), to_host(IPPROTO_TCP, kServiceIp, 80, kHostIp, 45000, true));
}

// The `kubernetes` Service: its endpoint is an address of the node's own stack, reached back out
// of the host port. From a pod the source stays the pod's (the node answers pods on the host port).
TEST_F(ServicePipelineTest, APodReachesAnEndpointOnTheNodesOwnStack) {
  set_service(service(IPPROTO_TCP, 443, 6443, {ready(kApiServer)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 443));
  const auto out = sent(kHostPort);
  EXPECT_EQ(out, to_host(IPPROTO_TCP, kPodA, 33000, kApiServer, 6443));
  expect_checksums_valid(out);

  run(kHostPort, from_host(IPPROTO_TCP, kApiServer, 6443, kPodA, 33000, true));
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 443, kPodA, 33000, true));
}

// From the node itself its own address as source would come back to it as a martian: the
// connection takes the pods' gateway address, which the node routes to the host port.
TEST_F(ServicePipelineTest, TheNodeReachesAnEndpointOnItsOwnStackFromTheGatewayIp) {
  set_service(service(IPPROTO_TCP, 443, 6443, {ready(kApiServer)}));
  run(kHostPort, from_host(IPPROTO_TCP, kHostIp, 45000, kServiceIp, 443));
  const auto out = sent(kHostPort);
  EXPECT_EQ(out, to_host(IPPROTO_TCP, kGatewayIp, kSnatPort, kApiServer, 6443));
  expect_checksums_valid(out);

  run(kHostPort, from_host(IPPROTO_TCP, kApiServer, 6443, kGatewayIp, kSnatPort, true));
  const auto reply = sent(kHostPort);
  EXPECT_EQ(reply, to_host(IPPROTO_TCP, kServiceIp, 443, kHostIp, 45000, true));
  expect_checksums_valid(reply);
}

// With an overlay the API server on this node listens on the node IP: reached through the host
// port, never from the node IP itself (a martian there), and never masqueraded out the uplink.
TEST_F(OverlayServiceTest, AnEndpointOnTheNodeIpIsTheNodesStack) {
  set_service(service(IPPROTO_TCP, 443, 6443, {ready(kNodeIp)}));
  run(kPodAPort, from_pod(kPodAPort, IPPROTO_TCP, kPodA, 33000, kServiceIp, 443));
  EXPECT_EQ(sent(kHostPort), to_host(IPPROTO_TCP, kPodA, 33000, kNodeIp, 6443));
  run(kHostPort, from_host(IPPROTO_TCP, kNodeIp, 6443, kPodA, 33000, true));
  EXPECT_EQ(sent(kPodAPort), to_pod(kPodAPort, IPPROTO_TCP, kServiceIp, 443, kPodA, 33000, true));

  run(kHostPort, from_host(IPPROTO_TCP, kHostIp, 45000, kServiceIp, 443));
  EXPECT_EQ(sent(kHostPort), to_host(IPPROTO_TCP, kGatewayIp, kSnatPort, kNodeIp, 6443));
}

}  // namespace
}  // namespace podvs::test
