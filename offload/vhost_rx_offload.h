// What rte_vhost leaves on an mbuf of a DPDK pod's virtio-net header, taken under the same rules
// as a tap's header (virtio_net_hdr.h) and turned into podvs's offload convention.
//
// rte_vhost reads the header itself and keeps no copy of it. Registered with
// RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS (ports/vhost_device.cc), it says what the header asked
// for the way a NIC would, with RX flags:
//   - RTE_MBUF_F_RX_L4_CKSUM_NONE: a partial checksum starting within the TCP, UDP or SCTP
//     header (the checksum field holds the pseudo-header sum, as from a tap);
//   - with it RTE_MBUF_F_RX_LRO and tso_segsz: a super-frame to cut into tso_segsz-byte segments.
// (A partial checksum anywhere else rte_vhost completes itself, as Linux would.) From those and the
// frame's own headers this rebuilds the header the pod wrote and hands it to vnet_hdr_to_mbuf, so
// a pod's frame is checked, refused or carried exactly as a tap's: a super-frame other than TCP
// over IPv4 is refused, a partial checksum becomes RTE_MBUF_F_TX_{TCP,UDP}_CKSUM.
//
// What rte_vhost 22.11 drops from a header leaves less to check. A GSO type with gso_size 0
// leaves only the partial checksum, on a frame longer than the pod's MTU: such a frame (a partial
// checksum, longer than the MTU allows, not a super-frame) is refused as virtio_oversized_frame.
// A checksum start beyond the frame leaves no flag at all and cannot be told from a frame without
// offloads: it goes on with its checksum unfinished, and its receiver drops it.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "offload/virtio_net_hdr.h"

namespace podvs {

// True when rte_vhost marked `m` as carrying offload work (a partial checksum, a super-frame).
inline bool vhost_rx_has_offloads(const rte_mbuf* m) {
  return (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
}

// Sets m's offload fields from what rte_vhost marked (vhost_rx_has_offloads(m) must hold), or says
// why the frame is refused. `max_frame_len`: the longest frame the pod's MTU allows, Ethernet
// header included.
VnetHdrVerdict vhost_rx_offloads_to_mbuf(rte_mbuf* m, uint32_t max_frame_len);

}  // namespace podvs
