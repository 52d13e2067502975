#include "perf/pktgen/vxlan.h"

#include <cstring>

namespace podvs::pktgen {

namespace {

constexpr uint32_t kEthLen = 14;
constexpr uint32_t kIpLen = 20;
constexpr uint32_t kUdpLen = 8;
constexpr uint32_t kVxlanLen = 8;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kOuterTtl = 64;
constexpr uint16_t kIpDontFragment = 0x4000;
constexpr uint16_t kIpFragmentMask = 0x3fff;  // MF flag and fragment offset
constexpr uint8_t kVxlanFlagI = 0x08;         // "a valid VNI is present"
constexpr uint16_t kDynamicPortFirst = 49152;
constexpr uint16_t kDynamicPortMask = 0x3fff;  // 16384 ports up to 65535

uint16_t ip_checksum(const uint8_t* ip) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < kIpLen; i += 2) sum += get_be16(ip + i);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// 32-bit finaliser of MurmurHash3: every input bit affects every output bit.
uint32_t mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace

VxlanOuter make_vxlan_outer(const VxlanSpec& spec, uint16_t inner_len) {
  VxlanOuter o{};
  uint8_t* b = o.data();
  std::memcpy(b, spec.dst_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  std::memcpy(b + 6, spec.src_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_be16(b + 12, RTE_ETHER_TYPE_IPV4);

  uint8_t* ip = b + kEthLen;
  ip[0] = 0x45;  // version 4, 20-byte header
  put_be16(ip + 2, static_cast<uint16_t>(kIpLen + kUdpLen + kVxlanLen + inner_len));
  put_be16(ip + 6, kIpDontFragment);
  ip[8] = kOuterTtl;
  ip[9] = kIpProtoUdp;
  put_be32(ip + 12, spec.src_ip);
  put_be32(ip + 16, spec.dst_ip);
  put_be16(ip + 10, ip_checksum(ip));

  uint8_t* udp = ip + kIpLen;
  put_be16(udp + 2, spec.udp_port);
  put_be16(udp + 4, static_cast<uint16_t>(kUdpLen + kVxlanLen + inner_len));

  uint8_t* vxlan = udp + kUdpLen;
  vxlan[0] = kVxlanFlagI;
  put_be32(vxlan + 4, spec.vni << 8);
  return o;
}

uint16_t vxlan_source_port(const FlowTuple& inner, L4 proto) {
  uint32_t h = mix(inner.src_ip);
  h = mix(h ^ inner.dst_ip);
  h = mix(h ^ ((uint32_t{inner.src_port} << 16) | inner.dst_port));
  h = mix(h ^ static_cast<uint8_t>(proto));
  return static_cast<uint16_t>(kDynamicPortFirst + (h & kDynamicPortMask));
}

std::optional<uint32_t> vxlan_inner_offset(const uint8_t* frame, uint32_t len, uint16_t udp_port,
                                           uint32_t vni) {
  if (len < kEthLen + kIpLen || get_be16(frame + 12) != RTE_ETHER_TYPE_IPV4) return std::nullopt;
  const uint8_t* ip = frame + kEthLen;
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < kIpLen || ip[9] != kIpProtoUdp ||
      (get_be16(ip + 6) & kIpFragmentMask) != 0)
    return std::nullopt;
  const uint32_t inner = kEthLen + ihl + kUdpLen + kVxlanLen;
  if (len < inner + kEthLen) return std::nullopt;
  const uint8_t* udp = ip + ihl;
  const uint8_t* vxlan = udp + kUdpLen;
  if (get_be16(udp + 2) != udp_port || (vxlan[0] & kVxlanFlagI) == 0 ||
      get_be32(vxlan + 4) >> 8 != vni)
    return std::nullopt;
  return inner;
}

}  // namespace podvs::pktgen
