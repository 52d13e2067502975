// Shared pieces of the NAT rewrite tests: frames in mbufs as parse_packet() sees them, and the
// checksums of a frame recomputed from scratch, to hold incremental updates against.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "tests/unit/conn_fixture.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"
#include "vswitch/packet_parse.h"

namespace podvs::test {

inline constexpr const char* kSrcMac = "02:00:00:00:00:01";
inline constexpr const char* kDstMac = "02:00:00:00:00:02";
inline constexpr size_t kEthLen = 14;

// One's complement sum of 16-bit big-endian words, folded, not inverted.
inline uint16_t sum16(const uint8_t* p, size_t len, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

inline void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

// `frame` (Ethernet, IPv4, first fragment) with the IPv4 header checksum and the TCP, UDP or ICMP
// checksum computed afresh; a UDP checksum of zero ("none") stays zero.
inline std::vector<uint8_t> recompute_checksums(std::vector<uint8_t> frame) {
  uint8_t* ip = frame.data() + kEthLen;
  const size_t ihl = (ip[0] & 0xf) * 4u;
  const size_t total = (ip[2] << 8) | ip[3];
  put16(frame, kEthLen + 10, 0);
  put16(frame, kEthLen + 10, static_cast<uint16_t>(~sum16(ip, ihl)));
  const uint8_t proto = ip[9];
  const size_t l4 = kEthLen + ihl;
  const size_t l4_len = total - ihl;
  if (proto == IPPROTO_ICMP) {
    put16(frame, l4 + 2, 0);
    put16(frame, l4 + 2, static_cast<uint16_t>(~sum16(ip + ihl, l4_len)));
  } else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    const size_t at = l4 + (proto == IPPROTO_UDP ? 6 : 16);
    if (proto == IPPROTO_UDP && frame[at] == 0 && frame[at + 1] == 0) return frame;
    put16(frame, at, 0);
    const uint32_t pseudo = sum16(ip + 12, 8) + proto + static_cast<uint32_t>(l4_len);
    auto cksum = static_cast<uint16_t>(~sum16(ip + ihl, l4_len, pseudo));
    if (proto == IPPROTO_UDP && cksum == 0) cksum = 0xffff;
    put16(frame, at, cksum);
  }
  return frame;
}

// Frames go into mbufs and come back out; every mbuf is freed when the test ends.
class NatTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (rte_mbuf* m : mbufs_) rte_pktmbuf_free(m);
  }
  rte_mbuf* load(const std::vector<uint8_t>& frame) {
    mbufs_.push_back(to_mbuf(test_pool(), frame));
    return mbufs_.back();
  }
  static rte_ipv4_hdr* ip_of(rte_mbuf* m) {
    const ParsedPacket p = parse_packet(m, 0);
    EXPECT_EQ(p.cls, PacketClass::ipv4);
    return p.ip;
  }

  std::vector<rte_mbuf*> mbufs_;
};

}  // namespace podvs::test
