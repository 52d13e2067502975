#include "vswitch/forwarding_table.h"

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <bit>
#include <cstring>
#include <functional>
#include <map>
#include <utility>

#include "base/rcu_grace.h"

namespace podvs {
namespace {

// At most half full so linear probes stay short.
uint32_t slot_count(size_t routes) { return std::max<uint32_t>(64, std::bit_ceil(routes * 2)); }

uint32_t hash_ip(rte_be32_t ip) { return rte_hash_crc_4byte(ip, 0); }

}  // namespace

rte_ether_addr to_rte(const MacAddr& mac) {
  rte_ether_addr out;
  std::memcpy(out.addr_bytes, mac.bytes.data(), RTE_ETHER_ADDR_LEN);
  return out;
}

ForwardingTable::ForwardingTable(uint64_t version, const ForwardingConfig& config,
                                 std::vector<PortEntry> ports, PortId host_port,
                                 const std::vector<PodRoute>& pod_routes)
    : version_(version),
      ports_(std::move(ports)),
      host_port_(host_port),
      gateway_mac_(to_rte(config.gateway_mac)),
      gateway_ip_(rte_cpu_to_be_32(config.gateway_ip)),
      host_ip_(rte_cpu_to_be_32(config.host_ip)),
      cidr_net_(rte_cpu_to_be_32(config.pod_cidr.network)),
      cidr_mask_(rte_cpu_to_be_32(config.pod_cidr.mask())),
      slots_(slot_count(pod_routes.size()), Slot{0, kNoPort}),
      slot_mask_(static_cast<uint32_t>(slots_.size() - 1)) {
  for (const PodRoute& r : pod_routes) {
    const rte_be32_t ip = rte_cpu_to_be_32(r.ip);
    uint32_t i = hash_ip(ip) & slot_mask_;
    while (slots_[i].ip != 0 && slots_[i].ip != ip) i = (i + 1) & slot_mask_;
    slots_[i] = Slot{ip, r.port};
  }
}

PortId ForwardingTable::find_pod_port(rte_be32_t ip) const {
  for (uint32_t i = hash_ip(ip) & slot_mask_;; i = (i + 1) & slot_mask_) {
    if (slots_[i].ip == ip) return slots_[i].port;
    if (slots_[i].ip == 0) return kNoPort;
  }
}

void ForwardingTable::set_overlay(OverlayState overlay) {
  overlay_ = std::move(overlay);
  remote_by_mask_.clear();
  std::map<uint8_t, std::unordered_map<rte_be32_t, uint16_t>, std::greater<>> by_length;
  for (size_t i = 0; i < overlay_.nodes.size(); ++i) {
    const Ipv4Prefix& cidr = overlay_.nodes[i].pod_cidr;
    by_length[cidr.length][rte_cpu_to_be_32(cidr.network)] = static_cast<uint16_t>(i);
  }
  for (auto& [length, networks] : by_length)
    remote_by_mask_.emplace_back(rte_cpu_to_be_32((Ipv4Prefix{0, length}.mask())),
                                 std::move(networks));
}

bool ForwardingTable::no_masquerade(rte_be32_t ip) const {
  for (const auto& [network, mask] : overlay_.no_masquerade)
    if ((ip & mask) == network) return true;
  return false;
}

uint16_t ForwardingTable::find_remote(rte_be32_t ip) const {
  for (const auto& [mask, networks] : remote_by_mask_)
    if (auto it = networks.find(ip & mask); it != networks.end()) return it->second;
  return kNoRemote;
}

ForwardAction ForwardingTable::route(rte_be32_t dst, PortId in_port) const {
  ForwardAction action;
  if (dst == host_ip_) {
    // The node itself, even inside cluster_cidr (which otherwise means "a pod nobody owns").
    if (host_port_ != kNoPort && in_port != host_port_) {
      action.next = NextStage::local;
      action.out_port = host_port_;
      action.dst_mac = ports_[host_port_].mac;
    }
    return action;
  }
  if (in_pod_cidr(dst)) {
    const PortId port = find_pod_port(dst);
    if (port != kNoPort) {
      action.next = NextStage::local;
      action.out_port = port;
      action.dst_mac = ports_[port].mac;
    }
    return action;
  }
  if (const uint16_t remote = find_remote(dst); remote != kNoRemote) {
    // Never back out of the uplink: a decapsulated packet for another node is not ours to route.
    if (in_port != overlay_.uplink_port) {
      action.next = NextStage::remote_node;
      action.out_port = overlay_.uplink_port;
      action.dst_mac = overlay_.nodes[remote].vtep_mac;
      action.remote = remote;
    }
    return action;
  }
  if (overlay_.cluster_mask != 0 && (dst & overlay_.cluster_mask) == overlay_.cluster_net)
    return action;
  if (overlay_.masquerade && in_port != host_port_ && in_port != overlay_.uplink_port &&
      !no_masquerade(dst)) {
    action.next = NextStage::masquerade;
    action.out_port = overlay_.uplink_port;
    action.dst_mac = overlay_.gateway_mac;
    return action;
  }
  if (host_port_ != kNoPort && in_port != host_port_) {
    action.next = NextStage::local;
    action.out_port = host_port_;
    action.dst_mac = ports_[host_port_].mac;
  }
  return action;
}

void ForwardingTableHandle::publish(std::unique_ptr<ForwardingTable> next) {
  const ForwardingTable* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  if (old == nullptr) return;
  rcu_wait_grace_period(qsbr_);
  delete old;
}

}  // namespace podvs
