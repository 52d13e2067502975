// L3 forwarding stage: what a router does to a packet it forwards. Decrement the TTL (updating
// the header checksum incrementally, RFC 1624, so the payload is never touched) and rewrite the
// Ethernet addresses to gateway → next hop.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>

#include "base/drop_reason.h"
#include "vswitch/forwarding_table.h"

namespace podvs {

// Returns false (drop with ttl_exceeded) when the packet may not be forwarded. Inline: every
// forwarded packet takes it, and as a call it cost the pipeline more than parsing a packet
// (6 % of stage_bench's samples against parse_packet's 5.7 %).
inline bool decrement_ttl(rte_ipv4_hdr* ip) {
  if (ip->time_to_live <= 1) [[unlikely]]
    return false;
  --ip->time_to_live;
  // The TTL is the high byte of a 16-bit word: it dropped by 0x0100, so by RFC 1624 eqn. 3 the
  // checksum grows by 0x0100 in one's complement arithmetic. Folding 0xffff to 0x0000 keeps the
  // result identical to a full recomputation (which never yields 0xffff).
  uint32_t sum = rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100u;
  sum += sum >= 0xffffu;
  ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(sum));
  return true;
}

inline void rewrite_l2(rte_ether_hdr* eth, const rte_ether_addr& gateway_mac,
                       const ForwardAction& action) {
  eth->dst_addr = action.dst_mac;
  eth->src_addr = gateway_mac;
}

}  // namespace podvs
