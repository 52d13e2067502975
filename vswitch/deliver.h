// The last step of forwarding an IPv4 packet whose decision is made: to a local port with the L2
// header rewritten, VXLAN-encapsulated to a remote node, or out through masquerade. Shared by
// the plain path (pipeline.cc) and the Service path (service_lb.cc), which decides after NAT.
#pragma once

#include <rte_mbuf.h>

#include "vswitch/forwarding_table.h"
#include "vswitch/packet_parse.h"

namespace podvs {

struct BurstContext;

// Sends `m` to the stage `action` names (local, remote_node, masquerade) or drops it under
// its reason: no route, TTL exceeded, unresolved neighbour, too big for the overlay (with ICMP
// "fragmentation needed" back to a DF sender).
void deliver(rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action, uint32_t hash,
             PortId in_port, BurstContext& ctx);

// True when `action` encapsulates and `p` (in `m`) would not fit the uplink once wrapped; a
// super-frame is measured by its segments.
bool too_big_for_overlay(const rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action,
                         const ForwardingTable& table);

// For a packet too_big_for_overlay(): ICMP "fragmentation needed" back to a DF sender, a drop
// otherwise (podvs does not fragment).
void refuse_too_big(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx);

}  // namespace podvs
