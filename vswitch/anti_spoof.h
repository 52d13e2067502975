// Anti-spoofing stage: a pod may only send from its own MAC and IPv4 address, so one pod cannot
// impersonate another or the node. The host port is trusted (it is the node itself); a port the
// table does not know yet (being attached) may send nothing.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>

#include "vswitch/forwarding_table.h"

namespace podvs {

inline bool source_allowed(const PortEntry& port, const rte_ether_hdr* eth,
                           const rte_ipv4_hdr* ip) {
  if (!port.check_source) return port.is_host;
  return rte_is_same_ether_addr(&eth->src_addr, &port.mac) && ip->src_addr == port.ip;
}

}  // namespace podvs
