// Shortening an mbuf chain to a given length. rte_pktmbuf_trim only cuts inside the last segment;
// the overlay stages shorten packets by amounts that may span segments.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// Keeps the first `len` bytes of `m` (len <= pkt_len) and frees the segments after them.
inline void mbuf_trim_to(rte_mbuf* m, uint32_t len) {
  m->pkt_len = len;
  rte_mbuf* seg = m;
  uint16_t segs = 1;
  while (len > seg->data_len) {
    len -= seg->data_len;
    seg = seg->next;
    ++segs;
  }
  seg->data_len = static_cast<uint16_t>(len);
  if (seg->next != nullptr) {
    rte_pktmbuf_free(seg->next);
    seg->next = nullptr;
  }
  m->nb_segs = segs;
}

}  // namespace podvs
