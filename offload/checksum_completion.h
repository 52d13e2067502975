// Completing a partial checksum in software, where a packet leaves for somewhere that will not
// complete it (the uplink, a port without checksum offload). The sender left in the checksum field
// the folded sum of the pseudo-header (virtio_net_hdr.h says so); summing everything from the
// start of the checksummed range to the end, that field included, and inverting gives the
// checksum, which is what Linux's skb_checksum_help does.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// Completes the checksum of bytes [start, end) of `m`, stored at start + offset (which the caller
// checked lies in the first segment, inside the range). A UDP checksum that comes out 0 is sent
// as 0xffff, zero meaning "none" (RFC 768).
void complete_checksum(rte_mbuf* m, uint32_t start, uint32_t end, uint32_t offset, bool udp);

// Completes the TCP or UDP checksum an mbuf carries as RTE_MBUF_F_TX_TCP_CKSUM /
// RTE_MBUF_F_TX_UDP_CKSUM (l2_len and l3_len say where the IPv4 and L4 headers are) and clears
// the flag. Not for super-frames: segmentation computes each segment's checksum.
void complete_l4_checksum(rte_mbuf* m);

// True when `m` carries a checksum still to complete.
inline bool has_partial_l4_checksum(const rte_mbuf* m) {
  return (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0;
}

}  // namespace podvs
