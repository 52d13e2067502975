// Kernel-side set-up of tap interfaces over rtnetlink: the pod's eth0 (address, MAC, MTU, routes
// via the link-local gateway) and the node's host port (address and a route to the pod CIDR).
// Control thread only.
#pragma once

#include <string>

#include "base/net_types.h"

namespace podvs {

struct PodInterfaceConfig {
  std::string ifname;
  Ipv4 ip = 0;
  MacAddr mac;
  uint32_t mtu = 1500;
  Ipv4 gateway_ip = 0;
};

// Call inside the pod's network namespace (ScopedNetns), after the tap exists there.
void configure_pod_interface(const PodInterfaceConfig& config);

// Call in the host namespace after the host tap exists.
void configure_host_interface(const std::string& ifname, Ipv4 host_ip, const MacAddr& mac,
                              uint32_t mtu, const Ipv4Prefix& pod_cidr);

// Undoes configure_host_interface's route to `pod_cidr` and, unless it is also the new pod CIDR's
// host address (`keep`), the address `host_ip` (the pod CIDR changed); the link stays.
void unconfigure_host_interface(const std::string& ifname, Ipv4 host_ip, const Ipv4Prefix& pod_cidr,
                                Ipv4 keep);

// The interface as ADD left it, or a sentence saying what differs (used by CHECK and status).
std::string check_pod_interface(const PodInterfaceConfig& config);

}  // namespace podvs
