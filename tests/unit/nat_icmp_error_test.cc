// Golden packets for ICMP errors about NATed connections: the error as it arrives, quoting the
// translated packet, goes in; the error the host behind the NAT must see, quoting the packet it
// sent, comes out, every checksum equal to a full recomputation.
#include <gtest/gtest.h>
#include <rte_icmp.h>

#include <string>

#include "tests/unit/nat_fixture.h"
#include "vswitch/nat/nat_rewrite.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;
constexpr uint8_t kDestUnreachable = 3;
constexpr uint8_t kPortUnreachable = 3;
constexpr uint8_t kTimeExceeded = 11;
constexpr size_t kMinQuote = 20 + 8;  // RFC 792: the IPv4 header and 64 bits of its payload

std::vector<uint8_t> udp(const std::string& src, uint16_t sport, const std::string& dst,
                         uint16_t dport) {
  return PacketBuilder()
      .eth(kSrcMac, kDstMac)
      .ipv4(src, dst, IPPROTO_UDP, 1)
      .udp(sport, dport)
      .bytes();
}

std::vector<uint8_t> tcp(const std::string& src, uint16_t sport, const std::string& dst,
                         uint16_t dport) {
  return PacketBuilder()
      .eth(kSrcMac, kDstMac)
      .ipv4(src, dst, IPPROTO_TCP, 1)
      .tcp(sport, dport)
      .bytes();
}

// The first `len` bytes of the IPv4 packet in `frame`; the whole packet when len is 0.
std::vector<uint8_t> quote(const std::vector<uint8_t>& frame, size_t len = kMinQuote) {
  return {frame.begin() + kEthLen, len == 0 ? frame.end() : frame.begin() + kEthLen + len};
}

std::vector<uint8_t> icmp_error(const std::string& src, const std::string& dst, uint8_t type,
                                uint8_t code, const std::vector<uint8_t>& quoted) {
  return PacketBuilder()
      .eth(kSrcMac, kDstMac)
      .ipv4(src, dst, IPPROTO_ICMP)
      .icmp(type, code, 0, quoted)
      .bytes();
}

class NatIcmpErrorTest : public NatTest {
 protected:
  void track(const ConnTuple& orig, const NatSpec& nat) {
    EXPECT_NE(ct_.create(orig, nat_reply_tuple(orig, nat), nat, 0), nullptr);
  }
  // Finds the connection `in` is about, expects direction `dir`, translates it, expects `out`.
  void expect_translated(const std::vector<uint8_t>& in, ConnDir dir,
                         const std::vector<uint8_t>& out) {
    rte_mbuf* m = load(in);
    rte_ipv4_hdr* ip = ip_of(m);
    const auto t = icmp_error_inner_tuple(m, ip);
    ASSERT_TRUE(t);
    const ConnLookup found = ct_.lookup(*t, 0);
    ASSERT_NE(found.entry, nullptr);
    EXPECT_EQ(found.dir, dir);
    EXPECT_TRUE(nat_translate_icmp_error(m, ip, *found.entry, found.dir));
    const auto got = from_mbuf(m);
    EXPECT_EQ(got, out);
    EXPECT_EQ(got, recompute_checksums(got));
  }

  ConnTrack ct_{64, kHz};
};

TEST_F(NatIcmpErrorTest, TimeExceededForMasqueradedUdpReachesThePod) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  expect_translated(
      icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0, quote(udp(kNodeIp, 40001, kDnsIp, 53))),
      ConnDir::reply,
      icmp_error(kRouterIp, kPodIp, kTimeExceeded, 0, quote(udp(kPodIp, 5000, kDnsIp, 53))));
}

TEST_F(NatIcmpErrorTest, WholeQuotedUdpPacketWithIpOptions) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  const auto sent = [](const char* src, uint16_t sport) {
    return PacketBuilder()
        .eth(kSrcMac, kDstMac)
        .ipv4(src, kDnsIp, IPPROTO_UDP, 1)
        .ip_options({0x01, 0x01, 0x01, 0x00})
        .udp(sport, 53)
        .bytes();
  };
  expect_translated(
      icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0, quote(sent(kNodeIp, 40001), 0)),
      ConnDir::reply,
      icmp_error(kRouterIp, kPodIp, kTimeExceeded, 0, quote(sent(kPodIp, 5000), 0)));
}

TEST_F(NatIcmpErrorTest, PortUnreachableFromAServiceBackendComesFromTheServiceIp) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_to(kBackendIp, 5353));
  expect_translated(icmp_error(kBackendIp, kClientIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kClientIp, 33000, kBackendIp, 5353))),
                    ConnDir::reply,
                    icmp_error(kClusterIp, kClientIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kClientIp, 33000, kClusterIp, 53))));
}

TEST_F(NatIcmpErrorTest, RouterOnTheWayToABackendKeepsItsAddress) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_to(kBackendIp, 5353));
  expect_translated(icmp_error(kRouterIp, kClientIp, kTimeExceeded, 0,
                               quote(udp(kClientIp, 33000, kBackendIp, 5353))),
                    ConnDir::reply,
                    icmp_error(kRouterIp, kClientIp, kTimeExceeded, 0,
                               quote(udp(kClientIp, 33000, kClusterIp, 53))));
}

// A NodePort connection (externalTrafficPolicy Cluster) translates both ends: client →
// node:40001, ClusterIP:53 → backend:5353. Errors either way must undo or apply both.
NatSpec dnat_and_snat() {
  NatSpec nat = dnat_to(kBackendIp, 5353);
  nat.snat = true;
  nat.src_addr = be32(kNodeIp);
  nat.src_port = be16(40001);
  return nat;
}

TEST_F(NatIcmpErrorTest, BackendErrorAboutADnatAndSnatConnectionReachesTheClient) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_and_snat());
  expect_translated(icmp_error(kBackendIp, kNodeIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kNodeIp, 40001, kBackendIp, 5353), 0)),
                    ConnDir::reply,
                    icmp_error(kClusterIp, kClientIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kClientIp, 33000, kClusterIp, 53), 0)));
  // A router on the way reports from its own address.
  expect_translated(icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0,
                               quote(udp(kNodeIp, 40001, kBackendIp, 5353))),
                    ConnDir::reply,
                    icmp_error(kRouterIp, kClientIp, kTimeExceeded, 0,
                               quote(udp(kClientIp, 33000, kClusterIp, 53))));
}

TEST_F(NatIcmpErrorTest, ClientErrorAboutADnatAndSnatReplyReachesTheBackend) {
  track(tuple(IPPROTO_UDP, kClientIp, 33000, kClusterIp, 53), dnat_and_snat());
  expect_translated(icmp_error(kClientIp, kClusterIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kClusterIp, 53, kClientIp, 33000), 0)),
                    ConnDir::original,
                    icmp_error(kNodeIp, kBackendIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kBackendIp, 5353, kNodeIp, 40001), 0)));
}

TEST_F(NatIcmpErrorTest, PodErrorAboutAReplyLeavesFromTheNode) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  expect_translated(icmp_error(kPodIp, kDnsIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kDnsIp, 53, kPodIp, 5000))),
                    ConnDir::original,
                    icmp_error(kNodeIp, kDnsIp, kDestUnreachable, kPortUnreachable,
                               quote(udp(kDnsIp, 53, kNodeIp, 40001))));
}

TEST_F(NatIcmpErrorTest, QuotedTcpChecksumIsFixedWhenQuoted) {
  track(tuple(IPPROTO_TCP, kPodIp, 5000, kDnsIp, 443), snat_to(kNodeIp, 40001));
  expect_translated(
      icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0, quote(tcp(kNodeIp, 40001, kDnsIp, 443), 0)),
      ConnDir::reply,
      icmp_error(kRouterIp, kPodIp, kTimeExceeded, 0, quote(tcp(kPodIp, 5000, kDnsIp, 443), 0)));
}

// 8 bytes of TCP hold the ports but not the checksum, which stays as quoted.
TEST_F(NatIcmpErrorTest, QuotedTcpWithoutItsChecksum) {
  track(tuple(IPPROTO_TCP, kPodIp, 5000, kDnsIp, 443), snat_to(kNodeIp, 40001));
  expect_translated(
      icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0, quote(tcp(kNodeIp, 40001, kDnsIp, 443))),
      ConnDir::reply,
      icmp_error(kRouterIp, kPodIp, kTimeExceeded, 0, quote(tcp(kPodIp, 5000, kDnsIp, 443))));
}

TEST_F(NatIcmpErrorTest, TimeExceededForAMasqueradedPing) {
  track(echo_tuple(kPodIp, kDnsIp, 7), snat_to(kNodeIp, 40001));
  const auto ping = [](const char* src, uint16_t id) {
    return PacketBuilder()
        .eth(kSrcMac, kDstMac)
        .ipv4(src, kDnsIp, IPPROTO_ICMP, 1)
        .icmp_echo(id, 1)
        .bytes();
  };
  expect_translated(icmp_error(kRouterIp, kNodeIp, kTimeExceeded, 0, quote(ping(kNodeIp, 40001))),
                    ConnDir::reply,
                    icmp_error(kRouterIp, kPodIp, kTimeExceeded, 0, quote(ping(kPodIp, 7))));
}

TEST_F(NatIcmpErrorTest, OtherIcmpIsNotAnErrorAboutAConnection) {
  track(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), snat_to(kNodeIp, 40001));
  const ConnEntry& entry = *ct_.lookup(tuple(IPPROTO_UDP, kPodIp, 5000, kDnsIp, 53), 0).entry;
  const auto sent = udp(kNodeIp, 40001, kDnsIp, 53);
  auto bad_version = quote(sent);
  bad_version[0] = 0x65;
  const auto error = [](const std::vector<uint8_t>& quoted, uint8_t type = kTimeExceeded) {
    return icmp_error(kRouterIp, kNodeIp, type, 0, quoted);
  };
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder()
          .eth(kSrcMac, kDstMac)
          .ipv4(kRouterIp, kNodeIp, IPPROTO_ICMP)
          .icmp_echo(40001, 1)
          .bytes(),
      error(quote(sent), 5),              // redirect
      error(quote(sent, kMinQuote - 1)),  // 7 bytes of UDP
      error(bad_version),                 // not IPv4
      error(
          quote(PacketBuilder().eth(kSrcMac, kDstMac).ipv4(kNodeIp, kDnsIp, 47).udp(1, 2).bytes())),
      error(quote(PacketBuilder()
                      .eth(kSrcMac, kDstMac)
                      .ipv4(kNodeIp, kDnsIp, IPPROTO_UDP)
                      .fragment_offset(10)
                      .udp(40001, 53)
                      .bytes())),
      error(quote(error(quote(sent)), 0)),  // an error about an error
  };
  for (const auto& f : frames) {
    rte_mbuf* m = load(f);
    rte_ipv4_hdr* ip = ip_of(m);
    EXPECT_FALSE(icmp_error_inner_tuple(m, ip));
    EXPECT_FALSE(nat_translate_icmp_error(m, ip, entry, ConnDir::reply));
    EXPECT_EQ(from_mbuf(m), f);
  }
}

}  // namespace
}  // namespace podvs::test
