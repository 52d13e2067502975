// L3 forwarding stage: what a router does to a packet it forwards. Decrement the TTL (updating
// the header checksum incrementally, RFC 1624, so the payload is never touched) and rewrite the
// Ethernet addresses to gateway → next hop.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>

#include "base/drop_reason.h"
#include "vswitch/forwarding_table.h"

namespace podvs {

// Returns false (drop with ttl_exceeded) when the packet may not be forwarded.
bool decrement_ttl(rte_ipv4_hdr* ip);

inline void rewrite_l2(rte_ether_hdr* eth, const rte_ether_addr& gateway_mac,
                       const ForwardAction& action) {
  eth->dst_addr = action.dst_mac;
  eth->src_addr = gateway_mac;
}

}  // namespace podvs
