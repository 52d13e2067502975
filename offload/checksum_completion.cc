#include "offload/checksum_completion.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>
#include <cstring>

#include "base/mbuf_cksum.h"

namespace podvs {

void complete_checksum(rte_mbuf* m, uint32_t start, uint32_t end, uint32_t offset, bool udp) {
  uint16_t cksum = static_cast<uint16_t>(~raw_cksum_mbuf(m, start, end - start));
  if (udp && cksum == 0) cksum = 0xffff;
  std::memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, start + offset), &cksum, sizeof(cksum));
}

void complete_l4_checksum(rte_mbuf* m) {
  const uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
  if (l4 != RTE_MBUF_F_TX_TCP_CKSUM && l4 != RTE_MBUF_F_TX_UDP_CKSUM) return;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
  // The IPv4 total length, not the frame's, ends the range: Ethernet padding is not data.
  const uint32_t end = m->l2_len + rte_be_to_cpu_16(ip->total_length);
  const bool udp = l4 == RTE_MBUF_F_TX_UDP_CKSUM;
  const uint32_t offset = udp ? offsetof(rte_udp_hdr, dgram_cksum) : offsetof(rte_tcp_hdr, cksum);
  complete_checksum(m, m->l2_len + m->l3_len, end, offset, udp);
  m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
}

}  // namespace podvs
