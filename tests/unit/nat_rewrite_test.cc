// Golden packets for NAT rewriting: a packet of a tracked connection goes in, the exact
// translated packet (built independently by PacketBuilder) comes out, and its incrementally
// updated checksums equal a full recomputation.
#include "vswitch/nat/nat_rewrite.h"

#include <gtest/gtest.h>
#include <rte_icmp.h>

#include <array>
#include <cstring>
#include <random>
#include <string>

#include "offload/checksum_completion.h"
#include "tests/unit/nat_fixture.h"
#include "vswitch/nat/ip_rewrite.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;
constexpr const char* kWebIp = "93.184.216.34";
constexpr size_t kUdpChecksumAt = kEthLen + 20 + 6;

// A TCP or UDP packet, or for ICMP an echo request (an echo reply if `echo_reply`) with
// identifier `sport`.
std::vector<uint8_t> frame(uint8_t proto, const std::string& src, uint16_t sport,
                           const std::string& dst, uint16_t dport, bool udp_checksum = true,
                           bool echo_reply = false) {
  PacketBuilder b;
  b.eth(kSrcMac, kDstMac).ipv4(src, dst, proto);
  if (proto == IPPROTO_TCP) b.tcp(sport, dport);
  if (proto == IPPROTO_UDP) b.udp(sport, dport);
  if (!udp_checksum) b.no_udp_checksum();
  if (proto == IPPROTO_ICMP) {
    std::vector<uint8_t> payload(18);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
    b.icmp(echo_reply ? RTE_IP_ICMP_ECHO_REPLY : RTE_IP_ICMP_ECHO_REQUEST, 0,
           (uint32_t{sport} << 16) | 1, payload);
  }
  return b.bytes();
}

// The frame as a port with checksum offload hands it over: its TCP/UDP checksum field holds the
// folded pseudo-header sum, L4 length included, not the checksum.
std::vector<uint8_t> partial(std::vector<uint8_t> f) {
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f.data() + kEthLen);
  const uint16_t pseudo = rte_ipv4_phdr_cksum(ip, 0);
  const size_t at = kEthLen + 20 + (ip->next_proto_id == IPPROTO_UDP ? 6 : 16);
  std::memcpy(f.data() + at, &pseudo, sizeof(pseudo));
  return f;
}

std::string dotted(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
         std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

class NatRewriteTest : public NatTest {
 protected:
  void track(const ConnTuple& orig, const NatSpec& nat) {
    EXPECT_NE(ct_.create(orig, nat_reply_tuple(orig, nat), nat, 0), nullptr);
  }
  // Looks `in` up by its tuple, expects direction `dir`, translates it and expects `out`.
  void expect_translated(const std::vector<uint8_t>& in, ConnDir dir,
                         const std::vector<uint8_t>& out) {
    rte_mbuf* m = load(in);
    rte_ipv4_hdr* ip = ip_of(m);
    const auto t = packet_tuple(ip);
    ASSERT_TRUE(t);
    const ConnLookup found = ct_.lookup(*t, 0);
    ASSERT_NE(found.entry, nullptr);
    EXPECT_EQ(found.dir, dir);
    nat_translate(ip, *found.entry, found.dir, L4Checksum::complete);
    const auto got = from_mbuf(m);
    EXPECT_EQ(got, out);
    EXPECT_EQ(got, recompute_checksums(got));
  }
  // The same with `in` carrying a partial checksum: the translated packet's field is the
  // pseudo-header sum of `out` (Linux's rule), and completing it gives `out` exactly.
  void expect_translated_partial(const std::vector<uint8_t>& in, ConnDir dir,
                                 const std::vector<uint8_t>& out) {
    rte_mbuf* m = load(partial(in));
    rte_ipv4_hdr* ip = ip_of(m);
    m->ol_flags = RTE_MBUF_F_TX_IPV4 | (ip->next_proto_id == IPPROTO_UDP ? RTE_MBUF_F_TX_UDP_CKSUM
                                                                         : RTE_MBUF_F_TX_TCP_CKSUM);
    m->l2_len = kEthLen;
    m->l3_len = 20;
    const auto t = packet_tuple(ip);
    ASSERT_TRUE(t);
    const ConnLookup found = ct_.lookup(*t, 0);
    ASSERT_NE(found.entry, nullptr);
    EXPECT_EQ(found.dir, dir);
    nat_translate(ip, *found.entry, found.dir, l4_checksum_of(m));
    EXPECT_EQ(from_mbuf(m), partial(out));
    complete_l4_checksum(m);
    EXPECT_EQ(from_mbuf(m), out);
  }
  std::vector<uint8_t> rewritten(const std::vector<uint8_t>& in, Endpoint which,
                                 const std::string& addr, uint16_t port) {
    rte_ipv4_hdr* ip = ip_of(load(in));
    if (which == Endpoint::src)
      rewrite_src(ip, be32(addr), be16(port), L4Checksum::complete);
    else
      rewrite_dst(ip, be32(addr), be16(port), L4Checksum::complete);
    return from_mbuf(mbufs_.back());
  }

  ConnTrack ct_{64, kHz};
};

TEST_F(NatRewriteTest, SnatTcpBothWays) {
  track(tuple(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443), snat_to(kNodeIp, 40001));
  expect_translated(frame(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443), ConnDir::original,
                    frame(IPPROTO_TCP, kNodeIp, 40001, kWebIp, 443));
  expect_translated(frame(IPPROTO_TCP, kWebIp, 443, kNodeIp, 40001), ConnDir::reply,
                    frame(IPPROTO_TCP, kWebIp, 443, kPodIp, 5000));
}

TEST_F(NatRewriteTest, SnatUdpBothWays) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  expect_translated(frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), ConnDir::original,
                    frame(IPPROTO_UDP, kNodeIp, 40001, kDnsIp, 53));
  expect_translated(frame(IPPROTO_UDP, kDnsIp, 53, kNodeIp, 40001), ConnDir::reply,
                    frame(IPPROTO_UDP, kDnsIp, 53, kPodIp, 5000));
}

TEST_F(NatRewriteTest, SnatOfPartialTcpChecksumAdjustsOnlyThePseudoHeaderSum) {
  track(tuple(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443), snat_to(kNodeIp, 40001));
  expect_translated_partial(frame(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443), ConnDir::original,
                            frame(IPPROTO_TCP, kNodeIp, 40001, kWebIp, 443));
  expect_translated_partial(frame(IPPROTO_TCP, kWebIp, 443, kNodeIp, 40001), ConnDir::reply,
                            frame(IPPROTO_TCP, kWebIp, 443, kPodIp, 5000));
}

TEST_F(NatRewriteTest, DnatOfPartialUdpChecksumAdjustsOnlyThePseudoHeaderSum) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_to(kBackendIp, 5353));
  expect_translated_partial(frame(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), ConnDir::original,
                            frame(IPPROTO_UDP, kClientIp, 33000, kBackendIp, 5353));
  expect_translated_partial(frame(IPPROTO_UDP, kBackendIp, 5353, kClientIp, 33000), ConnDir::reply,
                            frame(IPPROTO_UDP, kClusterIp, 53, kClientIp, 33000));
}

TEST_F(NatRewriteTest, PortRewriteLeavesAPartialChecksumAlone) {
  const auto in = partial(frame(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443));
  rte_ipv4_hdr* ip = ip_of(load(in));
  rewrite_src(ip, be32(kPodIp), be16(40001), L4Checksum::partial);
  auto expected = in;
  expected[kEthLen + 20] = 40001 >> 8;
  expected[kEthLen + 21] = 40001 & 0xff;
  EXPECT_EQ(from_mbuf(mbufs_.back()), expected);
}

TEST_F(NatRewriteTest, SnatUdpWithoutChecksumKeepsNone) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  expect_translated(frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53, false), ConnDir::original,
                    frame(IPPROTO_UDP, kNodeIp, 40001, kDnsIp, 53, false));
  expect_translated(frame(IPPROTO_UDP, kDnsIp, 53, kNodeIp, 40001, false), ConnDir::reply,
                    frame(IPPROTO_UDP, kDnsIp, 53, kPodIp, 5000, false));
}

TEST_F(NatRewriteTest, SnatIcmpEchoBothWays) {
  track(echo_tuple(kPodIp, kDnsIp, 7), snat_to(kNodeIp, 40001));
  expect_translated(frame(IPPROTO_ICMP, kPodIp, 7, kDnsIp, 0), ConnDir::original,
                    frame(IPPROTO_ICMP, kNodeIp, 40001, kDnsIp, 0));
  expect_translated(frame(IPPROTO_ICMP, kDnsIp, 40001, kNodeIp, 0, true, true), ConnDir::reply,
                    frame(IPPROTO_ICMP, kDnsIp, 7, kPodIp, 0, true, true));
}

TEST_F(NatRewriteTest, DnatTcpToAServiceBackendBothWays) {
  track(tuple(IPPROTO_TCP, kClientIp, 33000, kClusterIp, 80), dnat_to(kBackendIp, 8080));
  expect_translated(frame(IPPROTO_TCP, kClientIp, 33000, kClusterIp, 80), ConnDir::original,
                    frame(IPPROTO_TCP, kClientIp, 33000, kBackendIp, 8080));
  expect_translated(frame(IPPROTO_TCP, kBackendIp, 8080, kClientIp, 33000), ConnDir::reply,
                    frame(IPPROTO_TCP, kClusterIp, 80, kClientIp, 33000));
}

TEST_F(NatRewriteTest, DnatUdpToAServiceBackendBothWays) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_to(kBackendIp, 5353));
  expect_translated(frame(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), ConnDir::original,
                    frame(IPPROTO_UDP, kClientIp, 33000, kBackendIp, 5353));
  expect_translated(frame(IPPROTO_UDP, kBackendIp, 5353, kClientIp, 33000), ConnDir::reply,
                    frame(IPPROTO_UDP, kClusterIp, 53, kClientIp, 33000));
}

// A Service reached through a NodePort with externalTrafficPolicy Cluster, or by its own backend:
// one translation rewrites the destination to the backend and the source to the node, and the
// reply gets both undone.
NatSpec dnat_and_snat() {
  NatSpec nat = dnat_to(kBackendIp, 8080);
  nat.snat = true;
  nat.src_addr = be32(kNodeIp);
  nat.src_port = be16(40001);
  return nat;
}

TEST_F(NatRewriteTest, DnatAndSnatTcpBothWays) {
  const ConnTuple orig = tuple(IPPROTO_TCP, kClientIp, 33000, kClusterIp, 80);
  EXPECT_EQ(nat_reply_tuple(orig, dnat_and_snat()),
            tuple(IPPROTO_TCP, kBackendIp, 8080, kNodeIp, 40001));
  track(orig, dnat_and_snat());
  expect_translated(frame(IPPROTO_TCP, kClientIp, 33000, kClusterIp, 80), ConnDir::original,
                    frame(IPPROTO_TCP, kNodeIp, 40001, kBackendIp, 8080));
  expect_translated(frame(IPPROTO_TCP, kBackendIp, 8080, kNodeIp, 40001), ConnDir::reply,
                    frame(IPPROTO_TCP, kClusterIp, 80, kClientIp, 33000));
}

TEST_F(NatRewriteTest, DnatAndSnatUdpBothWaysWithAndWithoutChecksum) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 80), dnat_and_snat());
  for (const bool checksum : {true, false}) {
    expect_translated(frame(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 80, checksum),
                      ConnDir::original,
                      frame(IPPROTO_UDP, kNodeIp, 40001, kBackendIp, 8080, checksum));
    expect_translated(frame(IPPROTO_UDP, kBackendIp, 8080, kNodeIp, 40001, checksum),
                      ConnDir::reply,
                      frame(IPPROTO_UDP, kClusterIp, 80, kClientIp, 33000, checksum));
  }
}

TEST_F(NatRewriteTest, ConnectionWithoutNatIsLeftAlone) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), NatSpec{});
  const auto in = frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53);
  expect_translated(in, ConnDir::original, in);
}

// RFC 768: a checksum that computes to zero goes out as 0xffff, zero meaning "no checksum".
TEST_F(NatRewriteTest, UdpChecksumComputingToZeroIsSentAsAllOnes) {
  uint16_t zero_port = 0;
  for (uint32_t port = 1; port <= 0xffff && zero_port == 0; ++port) {
    const auto f = frame(IPPROTO_UDP, kPodIp, static_cast<uint16_t>(port), kDnsIp, 53);
    if (f[kUdpChecksumAt] == 0 && f[kUdpChecksumAt + 1] == 0)
      zero_port = static_cast<uint16_t>(port);
  }
  ASSERT_NE(zero_port, 0);
  auto expected = frame(IPPROTO_UDP, kPodIp, zero_port, kDnsIp, 53);
  put16(expected, kUdpChecksumAt, 0xffff);

  const auto got =
      rewritten(frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), Endpoint::src, kPodIp, zero_port);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got, recompute_checksums(got));
  // And from 0xffff onwards the updates stay right.
  const auto next = rewritten(got, Endpoint::src, kPodIp, 5000);
  EXPECT_EQ(next, frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53));
}

TEST_F(NatRewriteTest, RandomRewritesEqualAFullRecomputation) {
  std::mt19937 rng(42);
  for (int i = 0; i < 600; ++i) {
    const uint8_t proto = std::array<uint8_t, 3>{IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP}[i % 3];
    const std::string src = dotted(rng()), dst = dotted(rng()), to = dotted(rng());
    const auto sport = static_cast<uint16_t>(rng());
    const auto dport = proto == IPPROTO_ICMP ? sport : static_cast<uint16_t>(rng());
    const auto port = static_cast<uint16_t>(rng());
    const auto in = frame(proto, src, sport, dst, dport);
    if (i % 2 == 0) {
      const uint16_t to_dport = proto == IPPROTO_ICMP ? port : dport;
      EXPECT_EQ(rewritten(in, Endpoint::src, to, port), frame(proto, to, port, dst, to_dport)) << i;
    } else {
      const uint16_t to_sport = proto == IPPROTO_ICMP ? port : sport;
      EXPECT_EQ(rewritten(in, Endpoint::dst, to, port), frame(proto, src, to_sport, to, port)) << i;
    }
  }
}

TEST_F(NatRewriteTest, NonFirstFragmentGetsOnlyItsAddressRewritten) {
  const auto fragment = [](const char* src) {
    return PacketBuilder()
        .eth(kSrcMac, kDstMac)
        .ipv4(src, kDnsIp, IPPROTO_UDP)
        .fragment_offset(10)
        .udp(5000, 53)
        .bytes();
  };
  EXPECT_EQ(rewritten(fragment(kPodIp), Endpoint::src, kNodeIp, 40001), fragment(kNodeIp));
}

TEST_F(NatRewriteTest, PacketTupleOfTcpUdpAndEcho) {
  EXPECT_EQ(packet_tuple(ip_of(load(frame(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443)))),
            tuple(IPPROTO_TCP, kPodIp, 5000, kWebIp, 443));
  EXPECT_EQ(packet_tuple(ip_of(load(frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53)))),
            tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53));
  EXPECT_EQ(packet_tuple(ip_of(load(frame(IPPROTO_ICMP, kPodIp, 7, kDnsIp, 0)))),
            echo_tuple(kPodIp, kDnsIp, 7));
  EXPECT_EQ(packet_tuple(ip_of(load(frame(IPPROTO_ICMP, kDnsIp, 7, kPodIp, 0, true, true)))),
            echo_tuple(kDnsIp, kPodIp, 7));
}

TEST_F(NatRewriteTest, NoTupleWithoutPorts) {
  const auto udp = frame(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53);
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder()
          .eth(kSrcMac, kDstMac)
          .ipv4(kPodIp, kDnsIp, IPPROTO_ICMP)
          .icmp(3, 3, 0, {udp.begin() + kEthLen, udp.end()})
          .bytes(),
      PacketBuilder()
          .eth(kSrcMac, kDstMac)
          .ipv4(kPodIp, kDnsIp, IPPROTO_UDP)
          .fragment_offset(10)
          .udp(5000, 53)
          .bytes(),
      PacketBuilder().eth(kSrcMac, kDstMac).ipv4(kPodIp, kDnsIp, 47).udp(1, 2).bytes(),
  };
  for (const auto& f : frames) EXPECT_FALSE(packet_tuple(ip_of(load(f))));
}

}  // namespace
}  // namespace podvs::test
