#include "offload/vhost_rx_offload.h"

#include <rte_net.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>

namespace podvs {

VnetHdrVerdict vhost_rx_offloads_to_mbuf(rte_mbuf* m, uint32_t max_frame_len) {
  rte_net_hdr_lens lens{};
  const uint32_t ptype =
      rte_net_get_ptype(m, &lens, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK);
  const uint32_t l4 = ptype & RTE_PTYPE_L4_MASK;
  // SCTP's checksum is a CRC32c, which podvs does not compute: nothing could complete it.
  if (l4 != RTE_PTYPE_L4_TCP && l4 != RTE_PTYPE_L4_UDP)
    return {.ok = false, .reason = DropReason::virtio_csum_unsupported};

  virtio_net_hdr hdr{};
  hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  hdr.csum_start = static_cast<uint16_t>(lens.l2_len + lens.l3_len);
  hdr.csum_offset =
      l4 == RTE_PTYPE_L4_TCP ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum);
  if ((m->ol_flags & RTE_MBUF_F_RX_LRO) != 0) {
    hdr.gso_type = l4 == RTE_PTYPE_L4_UDP       ? VIRTIO_NET_HDR_GSO_UDP
                   : RTE_ETH_IS_IPV6_HDR(ptype) ? VIRTIO_NET_HDR_GSO_TCPV6
                                                : VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.gso_size = m->tso_segsz;
    hdr.hdr_len = static_cast<uint16_t>(lens.l2_len + lens.l3_len + lens.l4_len);
  }
  m->ol_flags &= ~RTE_MBUF_F_RX_LRO;
  const VnetHdrVerdict v = vnet_hdr_to_mbuf(hdr, m);
  if (v.ok && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) == 0 && rte_pktmbuf_pkt_len(m) > max_frame_len)
    return {.ok = false, .reason = DropReason::virtio_oversized_frame};
  return v;
}

}  // namespace podvs
