// podvs-pktgen's VXLAN modes and ARP responder: golden outer headers (--vxlan-tx), the receive
// side finding the stamp behind them (--vxlan-rx) and counting anything else as an error, and the
// ARP frames of --answer-arp.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "perf/pktgen/arp.h"
#include "perf/pktgen/frame.h"
#include "perf/pktgen/rx_stats.h"
#include "perf/pktgen/vxlan.h"

namespace podvs::pktgen {
namespace {

constexpr uint32_t kRemoteNodeIp = 0xc0a83202;  // 192.168.50.2
constexpr uint32_t kNodeIp = 0xc0a83201;        // 192.168.50.1
constexpr rte_ether_addr kRemoteMac{{0x02, 0x00, 0x00, 0x00, 0x50, 0x02}};
constexpr rte_ether_addr kVtepMac{{0x02, 0x00, 0x00, 0x00, 0x50, 0x01}};

VxlanSpec spec(uint32_t vni = 1) {
  VxlanSpec s;
  s.src_mac = kRemoteMac;
  s.dst_mac = kVtepMac;
  s.src_ip = kRemoteNodeIp;
  s.dst_ip = kNodeIp;
  s.vni = vni;
  return s;
}

// RFC 1071 over `len` bytes, written independently of vxlan.cc.
uint16_t reference_sum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i < len; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// `bytes` followed by zeros up to `len` bytes, as a frame padded to the Ethernet minimum.
std::vector<uint8_t> padded(const std::vector<uint8_t>& bytes, size_t len) {
  std::vector<uint8_t> out(len, 0);
  for (size_t i = 0; i < bytes.size() && i < len; ++i) out[i] = bytes[i];
  return out;
}

// A VXLAN-wrapped 60-byte inner UDP frame of flow `flow` with sequence number `seq`, as the
// transmit loop writes it.
std::vector<uint8_t> wrapped(uint32_t flow, uint32_t seq, const VxlanSpec& s = spec()) {
  const FlowTemplate t = make_template(FrameSpec{}, {0x0af40102, 0x0af40002, 1024, 5001}, flow);
  std::vector<uint8_t> frame(kVxlanOuterLen + kMinFrameLen, 0);
  const VxlanOuter outer = make_vxlan_outer(s, kMinFrameLen);
  std::copy(outer.begin(), outer.end(), frame.begin());
  set_vxlan_source_port(frame.data(), 0xc123);
  write_frame(frame.data() + kVxlanOuterLen, t, L4::udp, kMagicMeasured, seq, 0);
  return frame;
}

TEST(PktgenVxlan, OuterHeadersGolden) {
  const VxlanOuter outer = make_vxlan_outer(spec(), 60);
  const std::vector<uint8_t> expected = {
      // Ethernet: to the switch's VTEP, from the remote VTEP, IPv4
      0x02, 0x00, 0x00, 0x00, 0x50, 0x01, 0x02, 0x00, 0x00, 0x00, 0x50, 0x02, 0x08, 0x00,
      // IPv4: total length 20 + 8 + 8 + 60 = 96, id 0, DF, TTL 64, UDP, checksum, addresses
      0x45, 0x00, 0x00, 0x60, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x55, 0x39, 0xc0, 0xa8, 0x32,
      0x02, 0xc0, 0xa8, 0x32, 0x01,
      // UDP: source port set per flow, 4789, length 76, checksum 0
      0x00, 0x00, 0x12, 0xb5, 0x00, 0x4c, 0x00, 0x00,
      // VXLAN: flags I, VNI 1
      0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00};
  EXPECT_EQ(std::vector<uint8_t>(outer.begin(), outer.end()), expected);
}

TEST(PktgenVxlan, LengthsChecksumAndVniFollowTheSpec) {
  for (uint16_t inner : {60, 507, 1514}) {
    VxlanSpec s = spec(0xabcdef);
    s.udp_port = 8472;
    const VxlanOuter o = make_vxlan_outer(s, inner);
    EXPECT_EQ(get_be16(o.data() + 16), 36 + inner);  // IPv4 total length
    EXPECT_EQ(reference_sum(o.data() + 14, 20), 0xffff) << inner;
    EXPECT_EQ(get_be16(o.data() + 36), 8472);
    EXPECT_EQ(get_be16(o.data() + 38), 16 + inner);  // UDP length
    EXPECT_EQ(o[46], 0xab);
    EXPECT_EQ(o[47], 0xcd);
    EXPECT_EQ(o[48], 0xef);
    EXPECT_EQ(o[49], 0x00);
  }
}

TEST(PktgenVxlan, SourcePortPerFlowInTheDynamicRange) {
  std::set<uint16_t> ports;
  for (uint16_t sport = 1024; sport < 2024; ++sport) {
    const FlowTuple t{0x0a000001, 0x0a000002, sport, 5001};
    const uint16_t p = vxlan_source_port(t, L4::udp);
    EXPECT_GE(p, 49152);
    EXPECT_EQ(p, vxlan_source_port(t, L4::udp));  // a flow keeps its port (and its path)
    ports.insert(p);
  }
  EXPECT_GT(ports.size(), 900u);  // 1000 flows over 16384 ports: few collisions
  const FlowTuple t{0x0a000001, 0x0a000002, 1024, 5001};
  EXPECT_NE(vxlan_source_port(t, L4::udp), vxlan_source_port(t, L4::tcp));

  std::vector<uint8_t> frame = wrapped(0, 0);
  set_vxlan_source_port(frame.data(), 0xfedc);
  EXPECT_EQ(frame[34], 0xfe);
  EXPECT_EQ(frame[35], 0xdc);
}

TEST(PktgenVxlan, ReceiverSkipsTheOuterHeadersToTheStamp) {
  RxStats stats(4, 100, 1, VxlanRx{kVxlanDefaultPort, 1});
  for (uint32_t seq : {0, 1, 2}) {
    const std::vector<uint8_t> f = wrapped(3, seq);
    stats.account(f.data(), static_cast<uint32_t>(f.size()), 10);
  }
  EXPECT_EQ(stats.counters().measured, 3u);
  EXPECT_EQ(stats.counters().measured_bytes, 3u * kMinFrameLen);  // inner frames
  EXPECT_EQ(stats.counters().not_vxlan, 0u);
  EXPECT_EQ(stats.counters().foreign, 0u);
  EXPECT_EQ(stats.counters().reordered, 0u);
}

TEST(PktgenVxlan, ReceiverCountsAnythingElseAsNotVxlan) {
  RxStats stats(4, 100, 1, VxlanRx{kVxlanDefaultPort, 1});
  const auto account = [&stats](const std::vector<uint8_t>& f) {
    stats.account(f.data(), static_cast<uint32_t>(f.size()), 0);
  };
  // The inner frame alone, as a switch that forgot to encapsulate would send it.
  const std::vector<uint8_t> w = wrapped(0, 0);
  account(std::vector<uint8_t>(w.begin() + kVxlanOuterLen, w.end()));
  account(wrapped(0, 1, spec(2)));  // another VNI
  VxlanSpec other_port = spec();
  other_port.udp_port = 8472;
  account(wrapped(0, 2, other_port));
  std::vector<uint8_t> no_i_flag = wrapped(0, 3);
  no_i_flag[42] = 0;
  account(no_i_flag);
  std::vector<uint8_t> fragment = wrapped(0, 4);
  fragment[20] = 0x20;  // MF
  account(fragment);
  std::vector<uint8_t> truncated = wrapped(0, 5);
  truncated.resize(kVxlanOuterLen + 10);
  account(truncated);
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08, arp[13] = 0x06;
  account(arp);
  EXPECT_EQ(stats.counters().not_vxlan, 7u);
  EXPECT_EQ(stats.counters().measured, 0u);

  // VXLAN to us with an inner frame that is not ours: foreign, as without VXLAN.
  std::vector<uint8_t> foreign = wrapped(0, 6);
  foreign[kVxlanOuterLen + 42] ^= 0xff;  // the magic
  account(foreign);
  EXPECT_EQ(stats.counters().foreign, 1u);
  EXPECT_EQ(stats.counters().not_vxlan, 7u);
}

TEST(PktgenVxlan, InnerOffsetFollowsOuterIpOptions) {
  std::vector<uint8_t> f = wrapped(0, 0);
  EXPECT_EQ(vxlan_inner_offset(f.data(), static_cast<uint32_t>(f.size()), 4789, 1), 50u);
  f.insert(f.begin() + 34, {1, 1, 1, 0});  // four bytes of IPv4 options (NOPs, end)
  f[14] = 0x46;
  EXPECT_EQ(vxlan_inner_offset(f.data(), static_cast<uint32_t>(f.size()), 4789, 1), 54u);
}

TEST(PktgenArp, RequestForOurAddressBecomesTheReply) {
  // Who has 192.168.50.2? Tell 192.168.50.1 (from the switch's VTEP), padded to 60 bytes.
  std::vector<uint8_t> f =
      padded({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x50, 0x01, 0x08, 0x06,
              0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x50, 0x01,
              0xc0, 0xa8, 0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x32, 0x02},
             60);
  const std::vector<uint8_t> request = f;
  const ArpAnswer answer{kRemoteNodeIp, kRemoteMac};
  ASSERT_TRUE(arp_request_to_reply(f.data(), 60, answer));
  std::vector<uint8_t> expected =
      padded({0x02, 0x00, 0x00, 0x00, 0x50, 0x01, 0x02, 0x00, 0x00, 0x00, 0x50, 0x02, 0x08, 0x06,
              0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x50, 0x02,
              0xc0, 0xa8, 0x32, 0x02, 0x02, 0x00, 0x00, 0x00, 0x50, 0x01, 0xc0, 0xa8, 0x32, 0x01},
             60);
  EXPECT_EQ(f, expected);

  // A request for another address, a reply, a runt: left alone.
  std::vector<uint8_t> other = request;
  other[41] = 0x03;
  const std::vector<uint8_t> other_before = other;
  EXPECT_FALSE(arp_request_to_reply(other.data(), 60, answer));
  EXPECT_EQ(other, other_before);
  EXPECT_FALSE(arp_request_to_reply(f.data(), 60, answer));  // already a reply
  std::vector<uint8_t> runt = request;
  EXPECT_FALSE(arp_request_to_reply(runt.data(), 41, answer));
}

TEST(PktgenArp, GratuitousAnnouncement) {
  std::vector<uint8_t> f(kArpFrameLen, 0xee);
  make_gratuitous_arp(f.data(), ArpAnswer{kRemoteNodeIp, kRemoteMac});
  std::vector<uint8_t> expected =
      padded({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x50, 0x02, 0x08, 0x06,
              0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x50, 0x02,
              0xc0, 0xa8, 0x32, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x32, 0x02},
             kArpFrameLen);
  EXPECT_EQ(f, expected);
}

}  // namespace
}  // namespace podvs::pktgen
