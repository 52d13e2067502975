// Software segmentation of a TCP/IPv4 super-frame (RTE_MBUF_F_TX_TCP_SEG, virtio_net_hdr.h) for an
// output that cannot take it whole: VXLAN over an uplink without TSO, a vhost-user pod that did
// not negotiate TSO. The cutting is DPDK's rte_gso: each segment is a header copied into a fresh
// mbuf followed by indirect mbufs that point into the super-frame's payload, so no payload byte is
// copied. rte_gso leaves two jobs undone, done here on each segment: the checksums (IPv4 header,
// and the whole TCP checksum, pseudo-header with the segment's own length included) and Linux's
// CWR rule (only the first segment keeps CWR; rte_gso copies it to all, which would make the
// receiver halve its window once per segment).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// A 64 KiB super-frame with the smallest MSS a TCP peer may announce (536 bytes) makes 123
// segments; room for that many is what a caller passes.
inline constexpr uint16_t kMaxGsoSegments = 128;

// Cuts `m` into segments of at most m->tso_segsz payload bytes, with correct lengths, IPv4 ids
// (incremented per segment as Linux does), sequence numbers, flags and checksums, into `out`.
// Headers and payload references come from `pool` (a pktmbuf pool: an indirect mbuf is an
// ordinary mbuf attached to another's data). On success returns their number and `m` is consumed
// (the segments keep its data alive). A frame that needs no cutting is returned as the single
// segment, checksum completed. Returns 0 when the pool runs dry or `max` is too small: `m` is
// untouched and still the caller's.
uint16_t segment_tcp4(rte_mbuf* m, rte_mempool* pool, rte_mbuf** out, uint16_t max);

}  // namespace podvs
