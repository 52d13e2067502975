#include "offload/output_offload.h"

#include "offload/checksum_completion.h"
#include "offload/tcp_segmentation.h"

namespace podvs {

uint16_t finish_offloads(rte_mbuf* m, rte_mbuf** out, uint16_t max) {
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) return segment_tcp4(m, m->pool, out, max);
  if (max == 0) return 0;
  complete_l4_checksum(m);
  out[0] = m;
  return 1;
}

}  // namespace podvs
