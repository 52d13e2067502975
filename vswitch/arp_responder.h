// ARP responder stage: the switch is a router, so it answers ARP itself and never floods. Pods ask
// for their gateway (169.254.1.1); the node's stack asks, on the host port, for pod addresses.
// Both get the one virtual gateway MAC. On the uplink the switch is a node of the underlay: it
// answers for its node IP with the uplink's MAC and hands every other ARP to the control thread,
// which learns its next hops' MACs from them.
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>

#include "base/drop_reason.h"
#include "vswitch/forwarding_table.h"

namespace podvs {

struct ArpVerdict {
  bool reply = false;  // the frame was rewritten in place into a reply for its ingress port
  bool punt = false;   // uplink ARP for the control thread's neighbour table (not a drop)
  DropReason reason = DropReason::arp_not_for_us;  // when neither
};

ArpVerdict arp_respond(rte_ether_hdr* eth, rte_arp_hdr* arp, PortId in_port,
                       const ForwardingTable& table);

}  // namespace podvs
