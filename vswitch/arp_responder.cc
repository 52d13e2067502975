#include "vswitch/arp_responder.h"

#include <rte_byteorder.h>

namespace podvs {
namespace {

// The node resolves each pod on the host port (its route to the pod CIDR is on-link), and the
// pods' gateway, its next hop to the service CIDR (one neighbour entry for every ClusterIP).
bool answers_for(rte_be32_t target, PortId in_port, const ForwardingTable& table) {
  if (in_port == table.host_port())
    return (table.in_pod_cidr(target) && target != table.host_ip()) || target == table.gateway_ip();
  return target == table.gateway_ip();
}

}  // namespace

ArpVerdict arp_respond(rte_ether_hdr* eth, rte_arp_hdr* arp, PortId in_port,
                       const ForwardingTable& table) {
  const bool uplink = in_port == table.uplink_port();
  rte_arp_ipv4& body = arp->arp_data;
  const rte_be32_t target = body.arp_tip;
  const bool request = arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST);
  if (uplink && !(request && target == table.overlay().node_ip)) return ArpVerdict{.punt = true};
  if (!request) return ArpVerdict{.reason = DropReason::arp_reply_ignored};
  if (!uplink && !answers_for(target, in_port, table))
    return ArpVerdict{.reason = DropReason::arp_not_for_us};

  const rte_ether_addr& mac = uplink ? table.overlay().vtep_mac : table.gateway_mac();
  eth->dst_addr = body.arp_sha;
  eth->src_addr = mac;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  body.arp_tha = body.arp_sha;
  body.arp_tip = body.arp_sip;
  body.arp_sha = mac;
  body.arp_sip = target;
  return ArpVerdict{.reply = true};
}

}  // namespace podvs
