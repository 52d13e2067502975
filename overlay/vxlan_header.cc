#include "overlay/vxlan_header.h"

#include <rte_byteorder.h>

namespace podvs {
namespace {

constexpr uint8_t kOuterTtl = 64;
// VXLAN's first word: the I flag ("VNI is valid") and 24 reserved bits (RFC 7348 section 5).
constexpr uint32_t kVxlanFlagsWord = 0x08000000;
// RFC 7348 section 5 recommends the dynamic/private port range for the source port.
constexpr uint16_t kSourcePortBase = 49152;
constexpr uint16_t kSourcePortMask = 0x3fff;  // 65535 - 49152

}  // namespace

std::string vxlan_params_error(const VxlanParams& params) {
  if (params.udp_port == 0) return "VXLAN UDP port 0 is not a valid destination port";
  if (params.vni > kVxlanMaxVni)
    return "VXLAN VNI " + std::to_string(params.vni) + " does not fit in 24 bits (maximum " +
           std::to_string(kVxlanMaxVni) + ")";
  return "";
}

VxlanOuterTemplate make_vxlan_outer(const VxlanParams& params, const rte_ether_addr& src_mac,
                                    const rte_ether_addr& next_hop_mac, rte_be32_t src_ip,
                                    rte_be32_t dst_ip) {
  VxlanOuterTemplate t{};
  VxlanOuterHeaders& h = t.hdr;
  h.eth.dst_addr = next_hop_mac;
  h.eth.src_addr = src_mac;
  h.eth.ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

  h.ip.version_ihl = RTE_IPV4_VHL_DEF;
  h.ip.type_of_service = 0;
  h.ip.total_length = 0;
  h.ip.packet_id = 0;
  // DF: the underlay must never fragment tunnel packets (receivers drop fragments, as ours does);
  // an oversized inner packet gets an ICMP "fragmentation needed" instead.
  h.ip.fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  h.ip.time_to_live = kOuterTtl;
  h.ip.next_proto_id = IPPROTO_UDP;
  h.ip.hdr_checksum = 0;
  h.ip.src_addr = src_ip;
  h.ip.dst_addr = dst_ip;

  h.udp.src_port = 0;
  h.udp.dst_port = rte_cpu_to_be_16(params.udp_port);
  h.udp.dgram_len = 0;
  h.udp.dgram_cksum = 0;

  h.vxlan.vx_flags = RTE_BE32(kVxlanFlagsWord);
  // VNI in the top 24 bits, the low byte reserved (zero).
  h.vxlan.vx_vni = rte_cpu_to_be_32((params.vni & kVxlanMaxVni) << 8);

  t.ip_partial_sum = rte_raw_cksum(&h.ip, sizeof(h.ip));
  return t;
}

uint16_t vxlan_source_port(uint32_t flow_hash) {
  // Mix all 32 bits into the low 14 (the "lowbias32" finaliser): flow hashes that differ only
  // in their high bits must still get different ports.
  uint32_t h = flow_hash;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return static_cast<uint16_t>(kSourcePortBase | (h & kSourcePortMask));
}

}  // namespace podvs
