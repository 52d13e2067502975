// Masquerade stage: pod traffic to addresses outside the cluster leaves the uplink with its source
// translated to the node IP (a port chosen per connection), and the replies arriving on the uplink
// are translated back to the pod, through the worker's own connection tracking table.
//
// Concurrency: the ConnState is the calling worker's own (see conn_state.h); the forwarding table
// is read under RCU like everywhere in the pipeline.
#pragma once

#include <rte_mbuf.h>

#include "vswitch/packet_parse.h"

namespace podvs {

struct BurstContext;

// A pod's packet whose route is NextStage::masquerade: translated, TTL decremented, addressed to
// the underlay gateway and queued on the uplink; or dropped under its reason.
void masquerade_out(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx);

// An IPv4 packet on the uplink that is not VXLAN: the reply of a masqueraded connection (or an
// ICMP error about one) goes to its pod; anything else is dropped as uplink_not_overlay.
void masquerade_in(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx);

}  // namespace podvs
