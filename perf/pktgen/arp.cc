#include "perf/pktgen/arp.h"

#include <cstring>

#include "perf/pktgen/frame.h"

namespace podvs::pktgen {

namespace {

// Offsets in an Ethernet frame carrying ARP for IPv4 over Ethernet.
constexpr uint32_t kHtype = 14, kPtype = 16, kHlen = 18, kPlen = 19, kOper = 20;
constexpr uint32_t kSha = 22, kSpa = 28, kTha = 32, kTpa = 38;
constexpr uint16_t kHtypeEthernet = 1;
constexpr uint16_t kOperRequest = 1;
constexpr uint16_t kOperReply = 2;

void put_header(uint8_t* f, uint16_t oper) {
  put_be16(f + 12, RTE_ETHER_TYPE_ARP);
  put_be16(f + kHtype, kHtypeEthernet);
  put_be16(f + kPtype, RTE_ETHER_TYPE_IPV4);
  f[kHlen] = RTE_ETHER_ADDR_LEN;
  f[kPlen] = 4;
  put_be16(f + kOper, oper);
}

}  // namespace

bool arp_request_to_reply(uint8_t* f, uint32_t len, const ArpAnswer& answer) {
  if (len < kArpLen || !is_arp(f, len) || get_be16(f + kHtype) != kHtypeEthernet ||
      get_be16(f + kPtype) != RTE_ETHER_TYPE_IPV4 || f[kHlen] != RTE_ETHER_ADDR_LEN ||
      f[kPlen] != 4 || get_be16(f + kOper) != kOperRequest || get_be32(f + kTpa) != answer.ip)
    return false;
  uint8_t requester_mac[RTE_ETHER_ADDR_LEN];
  uint8_t requester_ip[4];
  std::memcpy(requester_mac, f + kSha, sizeof(requester_mac));
  std::memcpy(requester_ip, f + kSpa, sizeof(requester_ip));
  std::memcpy(f, requester_mac, RTE_ETHER_ADDR_LEN);
  std::memcpy(f + 6, answer.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_be16(f + kOper, kOperReply);
  std::memcpy(f + kSha, answer.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_be32(f + kSpa, answer.ip);
  std::memcpy(f + kTha, requester_mac, RTE_ETHER_ADDR_LEN);
  std::memcpy(f + kTpa, requester_ip, sizeof(requester_ip));
  return true;
}

void make_gratuitous_arp(uint8_t* f, const ArpAnswer& answer) {
  std::memset(f, 0, kArpFrameLen);
  std::memset(f, 0xff, RTE_ETHER_ADDR_LEN);
  std::memcpy(f + 6, answer.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_header(f, kOperRequest);
  std::memcpy(f + kSha, answer.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_be32(f + kSpa, answer.ip);
  put_be32(f + kTpa, answer.ip);  // target hardware address stays zero
}

}  // namespace podvs::pktgen
