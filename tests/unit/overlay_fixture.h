// Shared pieces of the overlay stage tests: the two nodes of a tunnel, a VXLAN header built byte
// by byte (independently of overlay/), and mbufs with a chosen headroom or split into segments.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs::test {

// The sending node (local) and the receiving node (remote) of the tunnel, and the pods behind.
inline constexpr const char* kLocalMac = "02:00:00:00:00:01";
inline constexpr const char* kNextHopMac = "02:00:00:00:00:fe";
inline constexpr const char* kLocalIp = "192.168.1.10";
inline constexpr const char* kRemoteIp = "192.168.1.20";
inline constexpr const char* kPodMac = "0a:58:0a:f4:00:02";
inline constexpr const char* kGatewayMac = "0a:58:a9:fe:01:01";
inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint32_t kVni = 0x123456;

inline rte_ether_addr ether(const std::string& text) {
  rte_ether_addr a;
  const auto bytes = mac(text);
  std::memcpy(a.addr_bytes, bytes.data(), RTE_ETHER_ADDR_LEN);
  return a;
}

inline rte_be32_t be_ip(const std::string& text) { return rte_cpu_to_be_32(ip(text)); }

inline std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// RFC 7348 section 5: flags (I = 0x08), 3 reserved bytes, 3 VNI bytes, 1 reserved byte.
inline std::vector<uint8_t> vxlan_header(uint32_t vni) {
  return {0x08,
          0,
          0,
          0,
          static_cast<uint8_t>(vni >> 16),
          static_cast<uint8_t>(vni >> 8),
          static_cast<uint8_t>(vni),
          0};
}

// A pod-to-pod UDP frame as it leaves the sending pod.
inline std::vector<uint8_t> inner_frame(size_t payload = 100) {
  return PacketBuilder()
      .eth(kPodMac, kGatewayMac)
      .ipv4("10.244.0.2", "10.244.1.3", IPPROTO_UDP)
      .udp(5000, 6000, payload)
      .bytes();
}

// An mbuf holding `frame` with exactly `headroom` bytes in front of it.
inline rte_mbuf* to_mbuf_with_headroom(const std::vector<uint8_t>& frame, uint16_t headroom) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  if (m == nullptr) throw std::runtime_error("mbuf pool empty");
  m->data_off = headroom;
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (data == nullptr) throw std::runtime_error("frame too large for one mbuf");
  std::memcpy(data, frame.data(), frame.size());
  return m;
}

// An mbuf chain holding `frame`, the first segments `sizes` bytes long and the last the rest.
inline rte_mbuf* to_segments(const std::vector<uint8_t>& frame, const std::vector<size_t>& sizes) {
  rte_mbuf* head = nullptr;
  size_t at = 0;
  for (size_t i = 0; i <= sizes.size(); ++i) {
    const size_t n = i < sizes.size() ? sizes[i] : frame.size() - at;
    rte_mbuf* seg = to_mbuf(test_pool(), {frame.begin() + at, frame.begin() + at + n});
    at += n;
    if (head == nullptr)
      head = seg;
    else if (rte_pktmbuf_chain(head, seg) != 0)
      throw std::runtime_error("mbuf chain too long");
  }
  return head;
}

// All bytes of an mbuf chain.
inline std::vector<uint8_t> linearize(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    const auto* data = rte_pktmbuf_mtod(seg, const uint8_t*);
    out.insert(out.end(), data, data + rte_pktmbuf_data_len(seg));
  }
  return out;
}

// Checks that every mbuf a test takes from the pool goes back.
class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override { in_use_before_ = rte_mempool_in_use_count(test_pool()); }
  void TearDown() override {
    for (rte_mbuf* m : mbufs_) rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_before_);
  }
  // The test owns `m` until TearDown.
  rte_mbuf* keep(rte_mbuf* m) {
    mbufs_.push_back(m);
    return m;
  }

 private:
  std::vector<rte_mbuf*> mbufs_;
  unsigned in_use_before_ = 0;
};

}  // namespace podvs::test
