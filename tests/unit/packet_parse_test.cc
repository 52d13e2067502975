#include "vswitch/packet_parse.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include <fstream>
#include <iterator>
#include <string>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

constexpr const char* kA = "0a:58:0a:f4:00:02";
constexpr const char* kGw = "0a:58:a9:fe:01:01";

struct Parsed {
  ParsedPacket p;
  rte_mbuf* m;
  ~Parsed() { rte_pktmbuf_free(m); }
};

std::unique_ptr<Parsed> parse(const std::vector<uint8_t>& frame, uint16_t port = 7) {
  rte_mbuf* m = to_mbuf(test_pool(), frame);
  return std::unique_ptr<Parsed>(new Parsed{parse_packet(m, port), m});
}

std::vector<uint8_t> udp_frame() {
  return PacketBuilder()
      .eth(kA, kGw)
      .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
      .udp(1111, 53)
      .bytes();
}

TEST(PacketParse, UdpKeyInNetworkOrder) {
  auto r = parse(udp_frame());
  ASSERT_EQ(r->p.cls, PacketClass::ipv4);
  EXPECT_EQ(r->p.key.src_ip, rte_cpu_to_be_32(ip("10.244.0.2")));
  EXPECT_EQ(r->p.key.dst_ip, rte_cpu_to_be_32(ip("10.244.0.3")));
  EXPECT_EQ(r->p.key.src_port, rte_cpu_to_be_16(1111));
  EXPECT_EQ(r->p.key.dst_port, rte_cpu_to_be_16(53));
  EXPECT_EQ(r->p.key.proto, IPPROTO_UDP);
  EXPECT_EQ(r->p.key.in_port, 7);
}

TEST(PacketParse, TcpAndIcmp) {
  auto t = parse(PacketBuilder()
                     .eth(kA, kGw)
                     .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_TCP)
                     .tcp(40000, 80)
                     .bytes());
  ASSERT_EQ(t->p.cls, PacketClass::ipv4);
  EXPECT_EQ(t->p.key.dst_port, rte_cpu_to_be_16(80));
  auto i = parse(PacketBuilder()
                     .eth(kA, kGw)
                     .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_ICMP)
                     .icmp_echo(1, 1)
                     .bytes());
  ASSERT_EQ(i->p.cls, PacketClass::ipv4);
  EXPECT_EQ(i->p.key.src_port, 0);
  EXPECT_EQ(i->p.key.dst_port, 0);
}

TEST(PacketParse, EthernetPaddingIsAccepted) {
  auto frame = PacketBuilder()
                   .eth(kA, kGw)
                   .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_ICMP)
                   .icmp_echo(1, 1, 0)
                   .bytes();
  frame.resize(60, 0);  // minimum Ethernet frame
  EXPECT_EQ(parse(frame)->p.cls, PacketClass::ipv4);
}

TEST(PacketParse, NonFirstFragmentNeedsNoL4Header) {
  auto frame = PacketBuilder()
                   .eth(kA, kGw)
                   .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
                   .udp(1, 2, 0)
                   .fragment_offset(100)
                   .bytes();
  frame.resize(14 + 20 + 4);
  frame[14 + 3] = 24;  // total length: header + 4 bytes of payload
  auto r = parse(frame);
  ASSERT_EQ(r->p.cls, PacketClass::ipv4);
  EXPECT_EQ(r->p.key.src_port, 0);
}

struct MalformedCase {
  const char* name;
  std::vector<uint8_t> frame;
  DropReason reason;
};

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> cases;
  auto base = udp_frame();
  cases.push_back(
      {"runt", std::vector<uint8_t>(base.begin(), base.begin() + 13), DropReason::runt_frame});
  auto ipv6 = base;
  ipv6[12] = 0x86, ipv6[13] = 0xdd;
  cases.push_back({"ipv6", ipv6, DropReason::unsupported_ethertype});
  auto vlan = base;
  vlan[12] = 0x81, vlan[13] = 0x00;
  cases.push_back({"vlan", vlan, DropReason::unsupported_ethertype});
  cases.push_back({"ip_cut", std::vector<uint8_t>(base.begin(), base.begin() + 14 + 19),
                   DropReason::ipv4_truncated});
  auto v6hdr = base;
  v6hdr[14] = 0x65;
  cases.push_back({"version6", v6hdr, DropReason::ipv4_bad_version});
  auto ihl4 = base;
  ihl4[14] = 0x44;
  cases.push_back({"ihl4", ihl4, DropReason::ipv4_bad_ihl});
  auto ihl15 = base;
  ihl15[14] = 0x4f;  // 60-byte header in a 46-byte IP packet
  cases.push_back({"ihl_beyond_frame", ihl15, DropReason::ipv4_truncated});
  auto short_total = base;
  short_total[16] = 0, short_total[17] = 19;
  cases.push_back({"total_below_header", short_total, DropReason::ipv4_bad_total_length});
  auto long_total = base;
  long_total[16] = 0x05, long_total[17] = 0xdc;
  cases.push_back({"total_beyond_frame", long_total, DropReason::ipv4_bad_total_length});
  auto l4cut = base;
  l4cut[16] = 0, l4cut[17] = 24;  // IP says 4 bytes of UDP
  cases.push_back({"udp_cut", l4cut, DropReason::l4_truncated});
  auto arp_short = PacketBuilder()
                       .eth(kA, "ff:ff:ff:ff:ff:ff", 0x0806)
                       .arp(1, kA, "10.244.0.2", "00:00:00:00:00:00", "169.254.1.1")
                       .bytes();
  arp_short.resize(14 + 20);
  cases.push_back({"arp_short", arp_short, DropReason::arp_malformed});
  auto arp_hlen = PacketBuilder()
                      .eth(kA, "ff:ff:ff:ff:ff:ff", 0x0806)
                      .arp(1, kA, "10.244.0.2", "00:00:00:00:00:00", "169.254.1.1")
                      .bytes();
  arp_hlen[14 + 4] = 8;
  cases.push_back({"arp_hlen", arp_hlen, DropReason::arp_malformed});
  return cases;
}

TEST(PacketParse, MalformedFramesAreDroppedWithTheirReason) {
  for (const auto& c : malformed_cases()) {
    auto r = parse(c.frame);
    EXPECT_EQ(r->p.cls, PacketClass::drop) << c.name;
    EXPECT_EQ(r->p.reason, c.reason) << c.name << ": got " << drop_reason_name(r->p.reason);
  }
}

TEST(PacketParse, ArpIsClassified) {
  auto r = parse(PacketBuilder()
                     .eth(kA, "ff:ff:ff:ff:ff:ff", 0x0806)
                     .arp(1, kA, "10.244.0.2", "00:00:00:00:00:00", "169.254.1.1")
                     .bytes());
  EXPECT_EQ(r->p.cls, PacketClass::arp);
  EXPECT_NE(r->p.arp, nullptr);
}

TEST(DropReasons, EveryReasonHasANameAndHelp) {
  for (size_t i = 0; i < kNumDropReasons; ++i) {
    EXPECT_FALSE(drop_reason_name(static_cast<DropReason>(i)).empty());
    EXPECT_FALSE(drop_reason_help(static_cast<DropReason>(i)).empty());
  }
  EXPECT_EQ(drop_reason_name(DropReason::spoofed_source), "spoofed_source");
}

TEST(DropReasons, EveryReasonIsDocumentedInTheReadme) {
  std::ifstream readme(PODVS_SOURCE_DIR "/README.md");
  ASSERT_TRUE(readme) << "README.md not found";
  const std::string text((std::istreambuf_iterator<char>(readme)),
                         std::istreambuf_iterator<char>());
  for (size_t i = 0; i < kNumDropReasons; ++i) {
    const auto reason = static_cast<DropReason>(i);
    const std::string row = "| `" + std::string(drop_reason_name(reason)) + "` | " +
                            std::string(drop_reason_help(reason)) + " |";
    EXPECT_NE(text.find(row), std::string::npos) << "README lacks the row: " << row;
  }
}

}  // namespace
}  // namespace podvs::test
