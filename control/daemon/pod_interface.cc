#include "control/daemon/pod_interface.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "base/log.h"
#include "control/daemon/netlink.h"

namespace podvs {
namespace {

// The switch routes IPv4 only; IPv6 on the interface would only send router solicitations and
// MLD reports that the switch must drop.
void disable_ipv6(const std::string& ifname) {
  std::ofstream f("/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6");
  if (f) f << "1\n";
}

int require_link(Netlink& nl, const std::string& ifname) {
  const int ifindex = nl.ifindex(ifname);
  if (ifindex < 0) throw std::runtime_error("interface " + ifname + " did not appear");
  return ifindex;
}

}  // namespace

void configure_pod_interface(const PodInterfaceConfig& c) {
  Netlink nl;
  const int ifindex = require_link(nl, c.ifname);
  disable_ipv6(c.ifname);
  nl.set_link(ifindex, {.name = std::nullopt, .mac = c.mac, .mtu = c.mtu, .up = true});
  nl.add_address(ifindex, c.ip, 32);
  const Ipv4Prefix gateway{c.gateway_ip, 32};
  nl.add_route({.dst = gateway,
                .oif = ifindex,
                .gateway = std::nullopt,
                .src = std::nullopt,
                .scope_link = true});
  nl.add_route({.dst = Ipv4Prefix{0, 0},
                .oif = ifindex,
                .gateway = c.gateway_ip,
                .src = std::nullopt,
                .scope_link = false});
  const int lo = nl.ifindex("lo");
  if (lo >= 0)
    nl.set_link(lo, {.name = std::nullopt, .mac = std::nullopt, .mtu = std::nullopt, .up = true});
}

void configure_host_interface(const HostInterfaceConfig& c) {
  Netlink nl;
  const int ifindex = require_link(nl, c.ifname);
  disable_ipv6(c.ifname);
  nl.set_link(ifindex, {.name = std::nullopt, .mac = c.mac, .mtu = c.mtu, .up = true});
  nl.add_address(ifindex, c.host_ip, 32);
  nl.add_route({.dst = c.pod_cidr,
                .oif = ifindex,
                .gateway = std::nullopt,
                .src = c.host_ip,
                .scope_link = true});
  if (!c.service_cidr) return;
  // Via one next hop rather than on-link: the kernel then keeps one neighbour entry for every
  // ClusterIP instead of one each (its neighbour table is bounded, gc_thresh3 = 1024 by default).
  // The gateway's own route also carries replies to connections the switch gave that source.
  nl.add_route({.dst = Ipv4Prefix{c.gateway_ip, 32},
                .oif = ifindex,
                .gateway = std::nullopt,
                .src = c.host_ip,
                .scope_link = true});
  nl.add_route({.dst = *c.service_cidr,
                .oif = ifindex,
                .gateway = c.gateway_ip,
                .src = c.host_ip,
                .scope_link = false});
}

void unconfigure_host_interface(const std::string& ifname, Ipv4 host_ip, const Ipv4Prefix& pod_cidr,
                                Ipv4 keep) {
  Netlink nl;
  const int ifindex = require_link(nl, ifname);
  // The route first: deleting the address would take it along anyway, but silently.
  nl.delete_route({.dst = pod_cidr,
                   .oif = ifindex,
                   .gateway = std::nullopt,
                   .src = host_ip,
                   .scope_link = true});
  if (host_ip != keep) nl.delete_address(ifindex, host_ip, 32);
}

std::string check_pod_interface(const PodInterfaceConfig& c) {
  Netlink nl;
  const int ifindex = nl.ifindex(c.ifname);
  if (ifindex < 0) return "interface " + c.ifname + " is missing";
  const auto link = nl.link(ifindex);
  if (!link || !link->up) return "interface " + c.ifname + " is down";
  if (link->mac != c.mac) return "interface " + c.ifname + " has MAC " + link->mac.str();
  const auto addrs = nl.addresses(ifindex);
  if (std::find(addrs.begin(), addrs.end(), std::pair<Ipv4, uint8_t>{c.ip, 32}) == addrs.end())
    return "interface " + c.ifname + " lacks address " + ipv4_str(c.ip) + "/32";
  const auto routes = nl.routes();
  const bool has_default = std::any_of(routes.begin(), routes.end(), [&](const auto& r) {
    return r.dst.length == 0 && r.gateway == c.gateway_ip && r.oif == ifindex;
  });
  if (!has_default) return "default route via " + ipv4_str(c.gateway_ip) + " is missing";
  return "up";
}

}  // namespace podvs
