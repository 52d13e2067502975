// Kernel-side set-up of tap interfaces over rtnetlink: the pod's eth0 (address, MAC, MTU, routes
// via the link-local gateway) and the node's host port (address and a route to the pod CIDR).
// Control thread only.
#pragma once

#include <optional>
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

// The node's side of the host port: its address, the pod CIDR on-link, and with a service CIDR
// (Kubernetes' Service network) a route to it via the pods' gateway, which podvsd answers ARP for
// on the host port, so the node's own stack reaches ClusterIPs through the switch.
struct HostInterfaceConfig {
  std::string ifname;
  Ipv4 host_ip = 0;
  MacAddr mac;
  uint32_t mtu = 1500;
  Ipv4Prefix pod_cidr;
  Ipv4 gateway_ip = 0;
  std::optional<Ipv4Prefix> service_cidr;
};

// Call in the host namespace after the host tap exists. Routes are replaced, so calling it again
// with a new host IP (the pod CIDR changed) moves the service CIDR's route to it.
void configure_host_interface(const HostInterfaceConfig& config);

// Undoes configure_host_interface's route to `pod_cidr` and, unless it is also the new pod CIDR's
// host address (`keep`), the address `host_ip` (the pod CIDR changed); the link stays.
void unconfigure_host_interface(const std::string& ifname, Ipv4 host_ip, const Ipv4Prefix& pod_cidr,
                                Ipv4 keep);

// The interface as ADD left it, or a sentence saying what differs (used by CHECK and status).
std::string check_pod_interface(const PodInterfaceConfig& config);

}  // namespace podvs
