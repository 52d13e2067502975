#include "vswitch/icmp_error.h"

#include <rte_byteorder.h>

#include <algorithm>

#include "base/ipv4_header.h"
#include "base/mbuf_trim.h"

namespace podvs {
namespace {

// RFC 792 destination unreachable; RFC 1191 section 4 puts the next-hop MTU of "fragmentation
// needed" in the low half of the word RFC 792 leaves unused, zero for every other code.
struct IcmpDestUnreachableHdr {
  uint8_t type;
  uint8_t code;
  rte_be16_t checksum;
  rte_be16_t unused;
  rte_be16_t next_hop_mtu;
} __rte_packed;
static_assert(sizeof(IcmpDestUnreachableHdr) == 8);

// ICMP types (RFC 792); the error types are the ones RFC 1812 4.3.2.7 never answers.
constexpr uint8_t kIcmpDestUnreachable = 3;
constexpr uint8_t kIcmpSourceQuench = 4;
constexpr uint8_t kIcmpRedirect = 5;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpParameterProblem = 12;
constexpr uint8_t kIcmpCodePortUnreachable = 3;
constexpr uint8_t kIcmpCodeFragNeeded = 4;

constexpr uint8_t kReplyTtl = 64;
// RFC 792: the original header plus 64 bits of its data, enough for the transport ports.
constexpr uint32_t kQuotedPayload = 8;
constexpr uint32_t kErrorHeaders = sizeof(rte_ipv4_hdr) + sizeof(IcmpDestUnreachableHdr);

bool is_icmp_error(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpSourceQuench || type == kIcmpRedirect ||
         type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}

// A source that names one host: not 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast)
// or 240/4 (reserved, including the limited broadcast 255.255.255.255).
bool is_single_host(rte_be32_t addr) {
  const uint32_t first_octet = rte_be_to_cpu_32(addr) >> 24;
  return first_octet != 0 && first_octet != 127 && first_octet < 224;
}

// Multicast (224/4) or the limited broadcast; a subnet's broadcast address is not known here.
bool is_group_destination(rte_be32_t addr) {
  const uint32_t a = rte_be_to_cpu_32(addr);
  return (a >> 28) == 0xe || a == 0xffffffff;
}

// The destination unreachable error with `code` and, for fragmentation needed, `next_hop_mtu`
// (host byte order; 0 otherwise), after the checks make_frag_needed and make_port_unreachable
// share; `require_df` adds fragmentation needed's own.
bool make_dest_unreachable(rte_mbuf* m, uint8_t code, uint16_t next_hop_mtu, bool require_df,
                           rte_be32_t reply_src_ip, const rte_ether_addr& reply_src_mac) {
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < sizeof(rte_ether_hdr)) return false;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) return false;
  const Ipv4HeaderCheck check = check_ipv4_header(ip, seg_len - sizeof(rte_ether_hdr),
                                                  rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr));
  if (!check.ok) return false;
  const uint32_t ihl = check.header_len;
  const uint32_t total_len = check.total_len;
  const uint32_t quoted_len = ihl + std::min(total_len - ihl, kQuotedPayload);
  if (sizeof(rte_ether_hdr) + quoted_len > seg_len) return false;

  if ((require_df && !ipv4_dont_fragment(ip)) || ipv4_is_later_fragment(ip)) return false;
  if (!is_single_host(ip->src_addr) || is_group_destination(ip->dst_addr) ||
      rte_is_multicast_ether_addr(&eth->dst_addr))
    return false;
  if (ip->next_proto_id == IPPROTO_ICMP) {
    // An error about an error could loop; an ICMP packet too short to show its type is no
    // better.
    const auto* icmp = reinterpret_cast<const uint8_t*>(ip) + ihl;
    if (total_len == ihl || is_icmp_error(*icmp)) return false;
  }
  if (rte_pktmbuf_headroom(m) < kErrorHeaders) return false;

  // The original IPv4 header stays where it is and becomes the quoted payload; the new Ethernet,
  // IPv4 and ICMP headers go in front of it, over the old Ethernet header (read it first).
  const rte_ether_addr orig_src_mac = eth->src_addr;
  const rte_be32_t orig_src_ip = ip->src_addr;
  auto* reply_eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, kErrorHeaders));
  auto* reply_ip = reinterpret_cast<rte_ipv4_hdr*>(reply_eth + 1);
  auto* icmp = reinterpret_cast<IcmpDestUnreachableHdr*>(reply_ip + 1);

  reply_eth->dst_addr = orig_src_mac;
  reply_eth->src_addr = reply_src_mac;
  reply_eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

  reply_ip->version_ihl = RTE_IPV4_VHL_DEF;
  reply_ip->type_of_service = 0;
  reply_ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kErrorHeaders + quoted_len));
  reply_ip->packet_id = 0;
  reply_ip->fragment_offset = 0;
  reply_ip->time_to_live = kReplyTtl;
  reply_ip->next_proto_id = IPPROTO_ICMP;
  reply_ip->hdr_checksum = 0;
  reply_ip->src_addr = reply_src_ip;
  reply_ip->dst_addr = orig_src_ip;
  reply_ip->hdr_checksum = rte_ipv4_cksum(reply_ip);

  icmp->type = kIcmpDestUnreachable;
  icmp->code = code;
  icmp->checksum = 0;
  icmp->unused = 0;
  icmp->next_hop_mtu = rte_cpu_to_be_16(next_hop_mtu);
  icmp->checksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, sizeof(*icmp) + quoted_len));

  mbuf_trim_to(m, sizeof(rte_ether_hdr) + kErrorHeaders + quoted_len);
  // A new, finished packet: nothing of the quoted one's segmentation or partial checksum is left
  // to do.
  m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
  return true;
}

}  // namespace

bool make_frag_needed(rte_mbuf* m, uint16_t next_hop_mtu, rte_be32_t reply_src_ip,
                      const rte_ether_addr& reply_src_mac) {
  return make_dest_unreachable(m, kIcmpCodeFragNeeded, next_hop_mtu, true, reply_src_ip,
                               reply_src_mac);
}

bool make_port_unreachable(rte_mbuf* m, rte_be32_t reply_src_ip,
                           const rte_ether_addr& reply_src_mac) {
  return make_dest_unreachable(m, kIcmpCodePortUnreachable, 0, false, reply_src_ip, reply_src_mac);
}

}  // namespace podvs
