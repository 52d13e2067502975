#include "offload/virtio_net_hdr.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstddef>

#include "base/ipv4_header.h"
#include "offload/checksum_completion.h"

namespace podvs {
namespace {

constexpr uint8_t kKnownFlags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
constexpr uint16_t kTcpCksumOffset = offsetof(rte_tcp_hdr, cksum);
constexpr uint16_t kUdpCksumOffset = offsetof(rte_udp_hdr, dgram_cksum);

constexpr VnetHdrVerdict rejected(DropReason reason) { return {.ok = false, .reason = reason}; }

bool known_gso_type(uint8_t gso) {
  switch (gso) {
    case VIRTIO_NET_HDR_GSO_NONE:
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_UDP:
    case VIRTIO_NET_HDR_GSO_TCPV6:
    case VIRTIO_NET_HDR_GSO_UDP_L4:
      return true;
    default:
      return false;
  }
}

// Where the IPv4 and TCP/UDP headers of an Ethernet frame are, when they are whole in its first
// segment; l3_len == 0 when the frame is not IPv4 (or is a fragment after the first).
struct L4Layout {
  uint16_t l3_len = 0;
  uint8_t proto = 0;
  uint16_t l4_len = 0;  // TCP: data offset × 4; UDP: 8; 0 when not whole in the segment
};

L4Layout l4_layout(const rte_mbuf* m) {
  L4Layout out;
  const uint32_t seg = rte_pktmbuf_data_len(m);
  if (seg < sizeof(rte_ether_hdr)) return out;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) return out;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const Ipv4HeaderCheck check = check_ipv4_header(ip, seg - sizeof(rte_ether_hdr),
                                                  rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr));
  if (!check.ok || !ipv4_has_l4_header(ip)) return out;
  out.l3_len = static_cast<uint16_t>(check.header_len);
  out.proto = ip->next_proto_id;
  const uint32_t l4_off = sizeof(rte_ether_hdr) + check.header_len;
  const uint32_t l4_room = std::min(seg - l4_off, check.total_len - check.header_len);
  uint32_t l4_len = 0;
  if (out.proto == IPPROTO_TCP && l4_room >= sizeof(rte_tcp_hdr)) {
    const auto* tcp = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, l4_off);
    l4_len = (tcp->data_off >> 4) * 4u;
    if (l4_len < sizeof(rte_tcp_hdr)) l4_len = 0;
  } else if (out.proto == IPPROTO_UDP) {
    l4_len = sizeof(rte_udp_hdr);
  }
  out.l4_len = l4_len <= l4_room ? static_cast<uint16_t>(l4_len) : 0;
  return out;
}

}  // namespace

VnetHdrVerdict vnet_hdr_to_mbuf(const virtio_net_hdr& hdr, rte_mbuf* m) {
  const uint8_t gso = hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
  if ((hdr.flags & ~kKnownFlags) != 0 || !known_gso_type(gso) ||
      (gso == VIRTIO_NET_HDR_GSO_NONE && hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE))
    return rejected(DropReason::virtio_bad_gso_type);
  if (gso != VIRTIO_NET_HDR_GSO_NONE && hdr.gso_size == 0)
    return rejected(DropReason::virtio_gso_size_zero);
  if (hdr.hdr_len > rte_pktmbuf_pkt_len(m))
    return rejected(DropReason::virtio_hdr_len_beyond_frame);

  const bool needs_csum = (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
  // The checksum field must lie inside the range it covers, in the first segment where the
  // headers are.
  if (needs_csum && static_cast<uint32_t>(hdr.csum_start) + hdr.csum_offset + sizeof(uint16_t) >
                        rte_pktmbuf_data_len(m))
    return rejected(DropReason::virtio_csum_out_of_range);

  const L4Layout l = l4_layout(m);
  const uint16_t l4_start = sizeof(rte_ether_hdr) + l.l3_len;
  const bool tcp_partial = needs_csum && l.l3_len != 0 && l.proto == IPPROTO_TCP && l.l4_len != 0 &&
                           hdr.csum_start == l4_start && hdr.csum_offset == kTcpCksumOffset;
  const bool udp_partial = needs_csum && l.l3_len != 0 && l.proto == IPPROTO_UDP && l.l4_len != 0 &&
                           hdr.csum_start == l4_start && hdr.csum_offset == kUdpCksumOffset;

  uint64_t flags = 0;
  if (gso != VIRTIO_NET_HDR_GSO_NONE) {
    // Only TCP over IPv4 is switched and segmented; its GSO always comes with the checksum to do.
    if (gso != VIRTIO_NET_HDR_GSO_TCPV4 || !tcp_partial)
      return rejected(DropReason::virtio_gso_unsupported);
    // A "super-frame" that fits one segment is an ordinary frame with a partial checksum.
    const uint32_t headers = l4_start + l.l4_len;
    if (rte_pktmbuf_pkt_len(m) - headers > hdr.gso_size) {
      flags |= RTE_MBUF_F_TX_TCP_SEG;
      m->tso_segsz = hdr.gso_size;
    }
  }
  if (tcp_partial || udp_partial) {
    flags |= RTE_MBUF_F_TX_IPV4 | (tcp_partial ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
    m->l2_len = sizeof(rte_ether_hdr);
    m->l3_len = l.l3_len;
    m->l4_len = l.l4_len;
  } else if (needs_csum) {
    // Not a checksum podvs carries as a flag (not TCP/UDP over IPv4, or not at its L4 header):
    // complete it here, over the rest of the frame as virtio defines it.
    complete_checksum(m, hdr.csum_start, rte_pktmbuf_pkt_len(m), hdr.csum_offset, false);
  }
  if ((hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0) flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  m->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_TX_OFFLOAD_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) | flags;
  return {};
}

virtio_net_hdr mbuf_to_vnet_hdr(const rte_mbuf* m) {
  virtio_net_hdr hdr{};
  const uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) {
    hdr.gso_type = (m->ol_flags & RTE_MBUF_F_TX_IPV6) != 0 ? VIRTIO_NET_HDR_GSO_TCPV6
                                                           : VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.gso_size = m->tso_segsz;
    hdr.hdr_len = static_cast<uint16_t>(m->l2_len + m->l3_len + m->l4_len);
  }
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0 || l4 == RTE_MBUF_F_TX_TCP_CKSUM ||
      l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
    hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr.csum_start = static_cast<uint16_t>(m->l2_len + m->l3_len);
    hdr.csum_offset = l4 == RTE_MBUF_F_TX_UDP_CKSUM ? kUdpCksumOffset : kTcpCksumOffset;
  } else if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
    hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
  }
  return hdr;
}

}  // namespace podvs
