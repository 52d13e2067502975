// One's complement sums for the outer UDP checksum of VXLAN packets, which may span segments.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>

namespace podvs {

// Folds a 32-bit one's complement sum of 16-bit words to 16 bits (not inverted).
inline uint16_t cksum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Folded, non-inverted sum of bytes [off, off + len) of `m` (off + len <= pkt_len), like
// rte_raw_cksum_mbuf. We do not use that one: DPDK 22.11's byte-swaps the unfolded 32-bit sum of a
// segment that starts at an odd offset after truncating it to 16 bits, losing its carries, so
// chains with an odd-length segment get a wrong checksum. Each part is folded before the swap here.
inline uint16_t raw_cksum_mbuf(const rte_mbuf* m, uint32_t off, uint32_t len) {
  const rte_mbuf* seg = m;
  while (off >= seg->data_len) {
    off -= seg->data_len;
    seg = seg->next;
  }
  uint32_t sum = 0;
  for (uint32_t done = 0; done < len; seg = seg->next, off = 0) {
    const uint32_t n = std::min<uint32_t>(seg->data_len - off, len - done);
    const uint16_t part = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void*, off), n);
    // A part that starts at an odd position pairs its bytes the other way round.
    sum += (done & 1) != 0 ? rte_bswap16(part) : part;
    done += n;
  }
  return cksum_fold(sum);
}

}  // namespace podvs
