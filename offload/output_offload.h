// What an output port takes of the work a packet may still carry (virtio_net_hdr.h), and doing
// the rest in software just before the packet is queued on it: a tap takes super-frames and
// partial checksums as they are (the pod's kernel finishes them, as over a veth), a vhost-user pod
// what it negotiated when it connected (GUEST_CSUM, GUEST_TSO4), an ethdev (the uplink, test rings)
// nothing. A packet that leaves the host thus always has its checksum completed, and is cut into
// segments only where it must be.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// Aligned to its size: a vhost-user device keeps it in a std::atomic, which clang makes
// lock-free (no libatomic call) only for a type aligned to its size.
struct alignas(2) PortOffloads {
  bool tso = false;      // TCP super-frames (RTE_MBUF_F_TX_TCP_SEG) go out whole
  bool l4_csum = false;  // partial TCP/UDP checksums go out partial
};

// True when `m` carries offload work at all: a super-frame or a partial checksum (from a tap, or
// from a vhost-user pod that negotiated offloads; never from the uplink). The one test every
// packet pays before the output port's offloads are looked up.
inline bool carries_offload_work(const rte_mbuf* m) {
  return (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)) != 0;
}

// True when `m` carries work `port` will not do.
inline bool needs_software_offload(const rte_mbuf* m, PortOffloads port) {
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) return !port.tso;
  return (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0 && !port.l4_csum;
}

// Does all the offload work `m` carries: a super-frame is segmented (tcp_segmentation.h, mbufs
// from m's own pool), a partial checksum completed. Returns the packets to send in `out` (m
// itself when not segmented), or 0 when segmentation failed: m is then still the caller's.
uint16_t finish_offloads(rte_mbuf* m, rte_mbuf** out, uint16_t max);

}  // namespace podvs
