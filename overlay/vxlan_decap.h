// VXLAN decapsulation stage: recognises the VXLAN packets for this node among the IPv4 frames
// received on the uplink, validates them strictly and strips the outer headers, leaving the inner
// Ethernet frame in the mbuf for the normal pipeline.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "base/drop_reason.h"
#include "overlay/vxlan_header.h"

namespace podvs {

struct VxlanDecapParams {
  VxlanParams vxlan;       // host byte order
  rte_be32_t node_ip = 0;  // this node's underlay address, network byte order
};

struct DecapResult {
  enum class Kind : uint8_t {
    not_vxlan,  // not UDP to our VXLAN port: untouched, the caller handles it otherwise
    decapped,   // the mbuf now holds the inner Ethernet frame
    rejected,   // untouched; the caller drops it with `reason`
  };
  Kind kind = Kind::not_vxlan;
  DropReason reason = DropReason::runt_frame;  // when kind == rejected
};

// `m` is a frame from the uplink with EtherType IPv4 whose headers sit in its first segment (the
// drivers we use never split headers). The outer IPv4 header's lengths are checked again here,
// as in parse_packet, so this is safe on any frame. Outer IPv4 options are allowed. A non-first
// IPv4 fragment carries no UDP header and so is not_vxlan; a first fragment to our port is
// rejected (vxlan_fragment): tunnel packets are never reassembled. A non-zero outer UDP checksum
// is verified over every segment. On success, Ethernet padding after the outer IPv4 total length
// is trimmed.
DecapResult vxlan_decap(rte_mbuf* m, const VxlanDecapParams& params);

}  // namespace podvs
