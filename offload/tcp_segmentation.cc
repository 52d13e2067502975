#include "offload/tcp_segmentation.h"

#include <rte_ethdev.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <algorithm>

#include "base/mbuf_cksum.h"
#include "offload/checksum_completion.h"

namespace podvs {
namespace {

constexpr uint8_t kTcpCwr = RTE_TCP_CWR_FLAG;

// The IPv4 header and TCP checksums of one output segment, whose headers rte_gso wrote into its
// first mbuf; CWR is cleared on all but the first segment.
void finish_segment(rte_mbuf* seg, bool first) {
  auto* ip = rte_pktmbuf_mtod_offset(seg, rte_ipv4_hdr*, seg->l2_len);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* tcp = rte_pktmbuf_mtod_offset(seg, rte_tcp_hdr*, seg->l2_len + seg->l3_len);
  if (!first) tcp->tcp_flags &= static_cast<uint8_t>(~kTcpCwr);
  // rte_ipv4_phdr_cksum without TSO flags: the pseudo-header with this segment's L4 length.
  tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
  const uint32_t l4_off = seg->l2_len + seg->l3_len;
  tcp->cksum =
      static_cast<uint16_t>(~raw_cksum_mbuf(seg, l4_off, rte_pktmbuf_pkt_len(seg) - l4_off));
  seg->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM);
}

}  // namespace

uint16_t segment_tcp4(rte_mbuf* m, rte_mempool* pool, rte_mbuf** out, uint16_t max) {
  if (max == 0) return 0;
  const uint32_t headers = m->l2_len + m->l3_len + m->l4_len;
  rte_gso_ctx ctx{};
  ctx.direct_pool = pool;
  ctx.indirect_pool = pool;
  ctx.flag = 0;  // incremental IPv4 ids, one per segment
  ctx.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
  // rte_gso's size is the whole output frame, headers included.
  ctx.gso_size = static_cast<uint16_t>(std::min<uint32_t>(headers + m->tso_segsz, UINT16_MAX));
  const int n = ctx.gso_size > RTE_GSO_SEG_SIZE_MIN && rte_pktmbuf_pkt_len(m) > ctx.gso_size
                    ? rte_gso_segment(m, &ctx, out, max)
                    : 0;
  if (n < 0) return 0;
  if (n == 0) {
    // Fits one segment: an ordinary frame whose checksum is still partial.
    m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
    complete_l4_checksum(m);
    out[0] = m;
    return 1;
  }
  for (int i = 0; i < n; ++i) finish_segment(out[i], i == 0);
  // The segments hold references to m's data; this drops the caller's.
  rte_pktmbuf_free(m);
  return static_cast<uint16_t>(n);
}

}  // namespace podvs
