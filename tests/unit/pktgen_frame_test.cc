// podvs-pktgen's pure parts: golden frames (bytes and checksums), stamps and flow enumeration.
#include <gtest/gtest.h>

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "perf/pktgen/flows.h"
#include "perf/pktgen/frame.h"

namespace podvs::pktgen {
namespace {

constexpr uint32_t kSrcIp = 0x0a000001;  // 10.0.0.1
constexpr uint32_t kDstIp = 0x0a000002;  // 10.0.0.2

FrameSpec spec(L4 proto, uint16_t frame_len = 60) {
  FrameSpec s;
  s.src_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  s.dst_mac = {{0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01}};
  s.proto = proto;
  s.frame_len = frame_len;
  return s;
}

std::vector<uint8_t> build(L4 proto, uint32_t flow, uint32_t seq, uint32_t tsc,
                           uint16_t frame_len = 60,
                           FlowTuple tuple = {kSrcIp, kDstIp, 1024, 5001}) {
  const FlowTemplate t = make_template(spec(proto, frame_len), tuple, flow);
  std::vector<uint8_t> frame(frame_len, 0);
  write_frame(frame.data(), t, proto, kMagicMeasured, seq, tsc);
  return frame;
}

// RFC 1071 over the whole buffer, written independently of frame.cc.
uint16_t reference_sum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2)
    sum += (uint32_t{bytes[i]} << 8) | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Sum of the pseudo header and the L4 segment; 0xffff when the L4 checksum is right.
uint16_t l4_verify(const std::vector<uint8_t>& frame) {
  std::vector<uint8_t> buf(frame.begin() + 26, frame.begin() + 34);  // source, destination
  const size_t l4_len = frame.size() - 34;
  buf.insert(buf.end(), {0, frame[23], static_cast<uint8_t>(l4_len >> 8),
                         static_cast<uint8_t>(l4_len & 0xff)});
  buf.insert(buf.end(), frame.begin() + 34, frame.end());
  return reference_sum(buf);
}

uint16_t ip_verify(const std::vector<uint8_t>& frame) {
  return reference_sum(std::vector<uint8_t>(frame.begin() + 14, frame.begin() + 34));
}

TEST(PktgenFrame, UdpGolden) {
  const std::vector<uint8_t> expected = {
      0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
      0x00, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x66, 0xbd, 0x0a, 0x00, 0x00, 0x01,
      0x0a, 0x00, 0x00, 0x02, 0x04, 0x00, 0x13, 0x89, 0x00, 0x1a, 0x72, 0xb5, 0x70, 0x67, 0x76,
      0x31, 0x00, 0x01, 0x23, 0x45, 0xff, 0xff, 0xff, 0xfe, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00};
  EXPECT_EQ(build(L4::udp, 0x12345, 0xfffffffe, 0x89abcdef), expected);
}

TEST(PktgenFrame, TcpGolden) {
  const std::vector<uint8_t> expected = {
      0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
      0x00, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06, 0x66, 0xc8, 0x0a, 0x00, 0x00, 0x01,
      0x0a, 0x00, 0x00, 0x02, 0x04, 0x00, 0x13, 0x89, 0xff, 0xff, 0xff, 0xfe, 0x89, 0xab, 0xcd,
      0xef, 0x50, 0x12, 0x00, 0x01, 0x22, 0xc8, 0x23, 0x45, 0x70, 0x67, 0x76, 0x31, 0x00, 0x00};
  EXPECT_EQ(build(L4::tcp, 0x12345, 0xfffffffe, 0x89abcdef), expected);
}

TEST(PktgenFrame, ChecksumsHoldForEverySizeFlowAndStamp) {
  for (L4 proto : {L4::udp, L4::tcp}) {
    for (uint16_t len : {60, 61, 507, 1514}) {
      for (uint32_t seq : {0u, 1u, 0x8000u, 0xffffffffu, 0x12345678u}) {
        const FlowTuple tuple{0xc0a80a0b + seq % 7, 0xfffffffe, uint16_t(seq), 65535};
        const auto frame = build(proto, seq % 1'000'000, seq, ~seq, len, tuple);
        ASSERT_EQ(frame.size(), len);
        EXPECT_EQ(ip_verify(frame), 0xffff) << "len " << len << " seq " << seq;
        EXPECT_EQ(l4_verify(frame), 0xffff) << "len " << len << " seq " << seq;
        EXPECT_EQ((frame[16] << 8) | frame[17], len - 14);  // IPv4 total length
      }
    }
  }
}

TEST(PktgenFrame, StampRoundTripsForBothProtocolsAndPhases) {
  for (L4 proto : {L4::udp, L4::tcp}) {
    const FlowTemplate t = make_template(spec(proto), {kSrcIp, kDstIp, 1, 2}, 999'999);
    std::vector<uint8_t> frame(60, 0);
    write_frame(frame.data(), t, proto, kMagicWarmup, 77, 0xdeadbeef);
    auto s = read_stamp(frame.data(), 60);
    ASSERT_TRUE(s.has_value());
    EXPECT_FALSE(s->measured);
    EXPECT_EQ(s->flow, 999'999u);
    EXPECT_EQ(s->seq, 77u);
    EXPECT_EQ(s->tsc, 0xdeadbeefu);
    write_frame(frame.data(), t, proto, kMagicMeasured, 78, 1);
    s = read_stamp(frame.data(), 60);
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->measured);
    EXPECT_EQ(s->seq, 78u);
  }
}

TEST(PktgenFrame, SwitchRewritesDoNotHideTheStamp) {
  auto frame = build(L4::udp, 5, 6, 7);
  for (int i = 0; i < 12; ++i) frame[i] ^= 0xff;  // both MACs rewritten
  frame[22] -= 1;                                 // TTL decremented (checksum not our business)
  const auto s = read_stamp(frame.data(), 60);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->flow, 5u);
  EXPECT_EQ(s->seq, 6u);
}

TEST(PktgenFrame, ForeignFramesAreNotOurs) {
  const auto ours = build(L4::udp, 1, 2, 3);
  auto no_magic = ours;
  no_magic[42] ^= 1;
  auto arp = ours;
  arp[12] = 0x08, arp[13] = 0x06;
  auto icmp = ours;
  icmp[23] = 1;
  auto options = ours;
  options[14] = 0x46;
  EXPECT_FALSE(read_stamp(no_magic.data(), 60));
  EXPECT_FALSE(read_stamp(arp.data(), 60));
  EXPECT_FALSE(read_stamp(icmp.data(), 60));
  EXPECT_FALSE(read_stamp(options.data(), 60));
  EXPECT_FALSE(read_stamp(ours.data(), kStampedLen - 1));
  EXPECT_TRUE(read_stamp(ours.data(), kStampedLen));
}

TEST(PktgenFlows, OneFlowIsTheBaseTuple) {
  FlowSet set;
  ASSERT_EQ(set.init({kSrcIp, kDstIp, 1024, 5001, 1, 1, 16}, 1), "");
  const FlowTuple t = set.tuple(0);
  EXPECT_EQ(t.src_ip, kSrcIp);
  EXPECT_EQ(t.dst_ip, kDstIp);
  EXPECT_EQ(t.src_port, 1024);
  EXPECT_EQ(t.dst_port, 5001);
}

TEST(PktgenFlows, SourcePortsVaryFirstThenDestinationPorts) {
  FlowSet set;
  ASSERT_EQ(set.init({kSrcIp, kDstIp, 1024, 5001, 1, 1, 16}, 100'000), "");
  EXPECT_EQ(set.src_ports(), 64512u);
  EXPECT_EQ(set.dst_ports(), 2u);
  EXPECT_EQ(set.src_ips(), 1u);
  EXPECT_EQ(set.tuple(64511).src_port, 65535);
  EXPECT_EQ(set.tuple(64511).dst_port, 5001);
  EXPECT_EQ(set.tuple(64512).src_port, 1024);
  EXPECT_EQ(set.tuple(64512).dst_port, 5002);
  EXPECT_EQ(set.tuple(99'999).src_ip, kSrcIp);  // anti-spoofing switches still accept it
}

TEST(PktgenFlows, AFixedSourcePortVariesTheDestinationPortFirst) {
  // A server's replies: from one port to the clients' ports.
  FlowSet set;
  FlowRanges replies{kDstIp, kSrcIp, 6000, 1024, 1, 1, 1000};
  replies.src_port_count = 1;
  ASSERT_EQ(set.init(replies, 1000), "");
  EXPECT_EQ(set.src_ports(), 1u);
  EXPECT_EQ(set.dst_ports(), 1000u);
  EXPECT_EQ(set.tuple(0).src_port, 6000);
  EXPECT_EQ(set.tuple(0).dst_port, 1024);
  EXPECT_EQ(set.tuple(999).src_port, 6000);
  EXPECT_EQ(set.tuple(999).dst_port, 2023);
  EXPECT_NE(set.init(replies, 1001), "");  // more flows than 1 x 1000 ports
  replies.src_port = 65535;
  replies.src_port_count = 2;
  EXPECT_NE(set.init(replies, 1), "");  // runs past port 65535
}

TEST(PktgenFlows, AMillionFlowsAreDistinct) {
  FlowSet set;
  ASSERT_EQ(set.init({kSrcIp, kDstIp, 1024, 5001, 1, 1, 16}, 1'000'000), "");
  std::unordered_set<uint64_t> seen;
  seen.reserve(1'000'000);
  for (uint32_t f = 0; f < 1'000'000; ++f) {
    const FlowTuple t = set.tuple(f);
    EXPECT_EQ(t.src_ip, kSrcIp);
    seen.insert((uint64_t{t.dst_port} << 16) | t.src_port);
  }
  EXPECT_EQ(seen.size(), 1'000'000u);
}

TEST(PktgenFlows, AddressesVaryWhenPortsRunOut) {
  FlowSet set;
  ASSERT_EQ(set.init({kSrcIp, kDstIp, 65000, 5001, 3, 4, 1}, 536 * 5), "");
  EXPECT_EQ(set.src_ports(), 536u);
  EXPECT_EQ(set.src_ips(), 3u);
  EXPECT_EQ(set.dst_ips(), 2u);
  EXPECT_EQ(set.tuple(536).src_ip, kSrcIp + 1);
  EXPECT_EQ(set.tuple(536 * 3).src_ip, kSrcIp);
  EXPECT_EQ(set.tuple(536 * 3).dst_ip, kDstIp + 1);
}

TEST(PktgenFlows, TooManyFlowsSayWhatToWiden) {
  FlowSet set;
  const std::string error = set.init({kSrcIp, kDstIp, 1024, 5001, 1, 1, 1}, 64513);
  EXPECT_NE(error.find("--dst-port-count"), std::string::npos) << error;
  EXPECT_NE(set.init({kSrcIp, kDstIp, 1024, 65535, 1, 1, 2}, 1), "");  // port range overflow
  EXPECT_NE(set.init({kSrcIp, kDstIp, 1024, 5001, 1, 1, 1}, 0), "");
}

}  // namespace
}  // namespace podvs::pktgen
