// The virtio-net header a tap opened with IFF_VNET_HDR puts before every frame (and wants before
// every frame written to it): what the kernel left undone, a checksum to complete or a TCP
// super-frame to cut into segments. This file turns the header into the mbuf's offload fields and
// back; it is the only place that reads or writes one, and it never trusts one: a header that
// does not fit its frame is a drop with a reason of its own.
//
// How podvs carries offloads on an mbuf, from whichever port it came (a vhost-user pod's, once
// vhost_rx_offload.h has turned rte_vhost's marks into it): work still to do is said with the TX
// flags, as if the packet were about to be sent to a NIC that does it.
//   - RTE_MBUF_F_TX_TCP_SEG with tso_segsz (payload bytes per segment) and l2/l3/l4_len: a TCP
//     super-frame, to be segmented by the output port or in software (tcp_segmentation.h).
//   - RTE_MBUF_F_TX_TCP_CKSUM / RTE_MBUF_F_TX_UDP_CKSUM with l2/l3_len: a partial checksum. As on
//     the virtio wire (and unlike DPDK's TSO convention), the checksum field holds the folded,
//     not inverted, sum of the pseudo-header including the L4 length; completing it is summing
//     from the L4 header to the end (checksum_completion.h).
//   - RTE_MBUF_F_RX_L4_CKSUM_GOOD: the sender vouches for the L4 checksum (DATA_VALID).
// Only Ethernet + IPv4 frames are switched, so only those get offload flags; a partial checksum
// anywhere else is completed at once, as Linux's skb_checksum_help would.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "base/drop_reason.h"

namespace podvs {

// struct virtio_net_hdr and its constants as the virtio spec (5.1.6) and the kernel's
// linux/virtio_net.h define them; that header cannot be included from C++ (a member is named
// `class`). The 16-bit fields are in host byte order: a tap's legacy header is native-endian.
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;      // bytes of headers, up to the L4 payload
  uint16_t gso_size;     // payload bytes per segment
  uint16_t csum_start;   // where the checksummed range starts
  uint16_t csum_offset;  // where in it the checksum field is
};
inline constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_UDP = 3;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

// The header's size without mergeable buffers: the tap's default TUNSETVNETHDRSZ.
inline constexpr uint16_t kVirtioNetHdrLen = sizeof(virtio_net_hdr);
static_assert(kVirtioNetHdrLen == 10);

struct VnetHdrVerdict {
  bool ok = true;
  DropReason reason = DropReason::virtio_bad_gso_type;  // when !ok
};

// Checks `hdr` (host byte order: a tap's legacy header is native-endian) against the frame in `m`
// (its headers in the first segment) and sets m's offload fields from it. May complete a partial
// checksum in place when it is not one podvs carries as a flag (see above).
VnetHdrVerdict vnet_hdr_to_mbuf(const virtio_net_hdr& hdr, rte_mbuf* m);

// The header to write before `m` on a tap: GSO and partial checksum from its TX flags,
// DATA_VALID from RTE_MBUF_F_RX_L4_CKSUM_GOOD, nothing otherwise.
virtio_net_hdr mbuf_to_vnet_hdr(const rte_mbuf* m);

}  // namespace podvs
