// VXLAN encapsulation stage: wraps an inner Ethernet frame for a remote node in the node's
// precomputed outer headers (overlay/vxlan_header.h). Per packet it only prepends, copies 50
// bytes and fills lengths, checksums and the UDP source port: no allocation, no syscalls.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "overlay/vxlan_header.h"

namespace podvs {

// Prepends `outer` to the frame in `m`. The outer UDP source port comes from
// `inner_flow_hash` (vxlan_source_port). With `udp_checksum` the outer UDP checksum covers the
// whole packet, else it is 0 (RFC 7348 allows that). Multi-segment mbufs are handled: the outer
// headers go into the first segment's headroom and the checksum walks all segments.
// Returns false, leaving `m` unchanged, when the first segment lacks 50 bytes of headroom or the
// result would exceed the 65535-byte IPv4 total length; the caller drops the packet.
bool vxlan_encap(rte_mbuf* m, const VxlanOuterTemplate& outer, uint32_t inner_flow_hash,
                 bool udp_checksum);

}  // namespace podvs
