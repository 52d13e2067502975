#include "overlay/vxlan_decap.h"

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "base/ipv4_header.h"
#include "base/mbuf_cksum.h"
#include "base/mbuf_trim.h"

namespace podvs {
namespace {

using Kind = DecapResult::Kind;

constexpr DecapResult kNotVxlan{Kind::not_vxlan, DropReason::runt_frame};
constexpr DecapResult kDecapped{Kind::decapped, DropReason::runt_frame};

constexpr DecapResult rejected(DropReason reason) { return {Kind::rejected, reason}; }

// RFC 7348 section 5: flags 0x08 (I) and 24 reserved bits, then VNI and 8 reserved bits.
constexpr uint32_t kVxlanFlagsWord = 0x08000000;
constexpr uint32_t kVxlanVniReservedMask = 0xff;

// True when the (non-zero) UDP checksum over pseudo-header, header and payload is right.
bool udp_checksum_ok(const rte_mbuf* m, const rte_ipv4_hdr* ip, uint32_t udp_offset,
                     uint16_t udp_len) {
  // Summing the data with its stored checksum gives all ones when the checksum is right.
  const uint32_t sum =
      uint32_t{raw_cksum_mbuf(m, udp_offset, udp_len)} + rte_ipv4_phdr_cksum(ip, 0);
  return cksum_fold(sum) == 0xffff;
}

}  // namespace

DecapResult vxlan_decap(rte_mbuf* m, const VxlanDecapParams& params) {
  // The outer IPv4 header gets parse_packet's checks (base/ipv4_header.h).
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < sizeof(rte_ether_hdr)) return rejected(DropReason::runt_frame);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) return kNotVxlan;
  const uint32_t l3_len = seg_len - sizeof(rte_ether_hdr);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const Ipv4HeaderCheck check =
      check_ipv4_header(ip, l3_len, rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr));
  if (!check.ok) return rejected(check.reason);
  const uint32_t ihl = check.header_len;
  const uint32_t total_len = check.total_len;

  // Only a packet with offset 0 shows the UDP header that says whether this is VXLAN.
  if (ip->next_proto_id != IPPROTO_UDP || !ipv4_has_l4_header(ip)) return kNotVxlan;
  if (total_len - ihl < sizeof(rte_udp_hdr) || ihl + sizeof(rte_udp_hdr) > l3_len)
    return rejected(DropReason::l4_truncated);
  const auto* udp =
      reinterpret_cast<const rte_udp_hdr*>(reinterpret_cast<const uint8_t*>(ip) + ihl);
  if (udp->dst_port != rte_cpu_to_be_16(params.vxlan.udp_port)) return kNotVxlan;

  if (ip->dst_addr != params.node_ip) return rejected(DropReason::vxlan_not_our_ip);
  if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG)) != 0)
    return rejected(DropReason::vxlan_fragment);
  const uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (udp_len != total_len - ihl) return rejected(DropReason::vxlan_bad_udp_length);
  // The VXLAN header and the inner Ethernet header must be there and in the first segment.
  const uint32_t outer_len = sizeof(rte_ether_hdr) + ihl + RTE_ETHER_VXLAN_HLEN;
  if (udp_len < RTE_ETHER_VXLAN_HLEN + sizeof(rte_ether_hdr) ||
      outer_len + sizeof(rte_ether_hdr) > seg_len)
    return rejected(DropReason::vxlan_truncated);
  if (udp->dgram_cksum != 0 &&
      !udp_checksum_ok(m, ip, sizeof(rte_ether_hdr) + ihl, static_cast<uint16_t>(udp_len)))
    return rejected(DropReason::vxlan_bad_checksum);

  const auto* vxlan = reinterpret_cast<const rte_vxlan_hdr*>(udp + 1);
  if (vxlan->vx_flags != RTE_BE32(kVxlanFlagsWord) ||
      (vxlan->vx_vni & RTE_BE32(kVxlanVniReservedMask)) != 0)
    return rejected(DropReason::vxlan_bad_flags);
  if (rte_be_to_cpu_32(vxlan->vx_vni) >> 8 != params.vxlan.vni)
    return rejected(DropReason::vxlan_bad_vni);

  // Drop padding first (it lies beyond the IPv4 total length), then the outer headers.
  mbuf_trim_to(m, sizeof(rte_ether_hdr) + total_len);
  rte_pktmbuf_adj(m, static_cast<uint16_t>(outer_len));
  return kDecapped;
}

}  // namespace podvs
