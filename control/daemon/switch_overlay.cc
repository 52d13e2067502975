// The control thread's half of the VXLAN overlay: the uplink port, the remote-node table, next-hop
// resolution over ARP and what workers see of all that (OverlayState in the forwarding table).
// Everything here runs on the control thread; workers only read published tables.
#include <rte_ethdev.h>

#include <chrono>

#include "base/log.h"
#include "control/api/owner.h"
#include "control/daemon/switch_controller.h"
#include "overlay/arp_frames.h"
#include "overlay/vxlan_flow_offload.h"

namespace podvs {
namespace {

// The mark our rte_flow rule puts on VXLAN packets it steers ("PV").
constexpr uint32_t kVxlanFlowMark = 0x5056;

Ipv4Prefix node_subnet(const Config& config) {
  const Ipv4Prefix any{0, config.node_prefix_length};
  return Ipv4Prefix{config.node_ip & any.mask(), config.node_prefix_length};
}

}  // namespace

void SwitchController::start_overlay(const std::vector<RemoteNodeSpec>& saved_nodes) {
  if (!config_.overlay_enabled()) {
    if (!saved_nodes.empty())
      PODVS_LOG(warning, "%zu saved remote nodes ignored: no uplink is configured",
                saved_nodes.size());
    return;
  }
  const auto queues = static_cast<uint16_t>(workers_.size());
  uplink_port_ = ports_->create_uplink(config_, queues);
  if (uplink_port_->io.backend == PortBackend::vhost_user) {
    // A vhost-user device has no MAC of its own: ours is derived from the node IP, as
    // Kubernetes' CNI plugins derive a pod's (0a:58 and the four bytes of the address), so it is
    // stable across restarts and unique on the underlay. No NIC steers anything here.
    uplink_mac_.bytes = {0x0a,
                         0x58,
                         static_cast<uint8_t>(config_.node_ip >> 24),
                         static_cast<uint8_t>(config_.node_ip >> 16),
                         static_cast<uint8_t>(config_.node_ip >> 8),
                         static_cast<uint8_t>(config_.node_ip)};
    uplink_offload_ = "software (a vhost-user uplink has no rte_flow)";
  } else {
    start_ethdev_uplink(queues);
  }
  PODVS_LOG(info, "uplink %s (id %u, %s, %u queues): VXLAN steering %s",
            uplink_port_->dev_name.c_str(), uplink_port_->port_id, uplink_mac_.str().c_str(),
            queues, uplink_offload_.c_str());

  if (config_.uplink_gateway != 0) {
    // The gateway is a next hop like a remote node's (masquerade, and answers to NodePort clients
    // outside the cluster leave through it), and stays wanted while podvsd runs.
    if (next_hop_users_[config_.uplink_gateway]++ == 0)
      if (auto error = neighbours_.want(config_.uplink_gateway, NeighbourClock::now()))
        throw std::runtime_error("cannot resolve uplink_gateway: " + *error);
  }
  if (masquerade_enabled()) {
    PODVS_LOG(info, "masquerade to %s via %s", ipv4_str(config_.node_ip).c_str(),
              ipv4_str(config_.uplink_gateway).c_str());
  } else if (config_.masquerade && config_.cluster_cidr && config_.uplink_gateway != 0) {
    PODVS_LOG(warning, "masquerade is off: it needs connection tracking (conntrack_entries is 0)");
  }
  for (const RemoteNodeSpec& node : saved_nodes)
    if (auto r = do_add_node(node); !r.is_ok())
      PODVS_LOG(warning, "saved remote node %s not restored: %s", node.name.c_str(),
                r.error.message.c_str());
  publish_table();
  if (uplink_port_->io.backend == PortBackend::vhost_user) {
    // Polled as a DPDK pod's port: its queues placed by load, the others once the peer enables
    // them (sync_vhost_queues).
    assign_initial_rxqs(*uplink_port_, uplink_workers_);
  } else {
    // One worker per uplink queue: queue i belongs to worker i, so its tx queue i needs no lock.
    uplink_workers_.clear();
    for (uint16_t q = 0; q < queues; ++q) {
      workers_[q]->post(
          WorkerCommand::Kind::add_rxq,
          RxQueue{
              .port = uplink_port_->port_id, .queue = q, .lazy = false, .io = uplink_port_->io});
      uplink_workers_.push_back(q);
    }
  }
  uplink_link_up_ = false;  // the first overlay_tick that sees the link up announces us
}

bool SwitchController::announce_node_ip() {
  // Underlay neighbours that cached another MAC for our node IP, or none, learn ours. Sent each
  // time the uplink's link comes up, at start and again when it comes back (a vhost-user peer
  // that restarted, a NIC's cable), as Linux does with arp_notify: sent while the link is down
  // it would be lost.
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return false;
  if (!build_gratuitous_arp(m, to_rte(uplink_mac_), rte_cpu_to_be_32(config_.node_ip)) ||
      !send_on_uplink(m)) {
    rte_pktmbuf_free(m);
    return false;
  }
  ++uplink_announcements_;
  return true;
}

void SwitchController::start_ethdev_uplink(uint16_t queues) {
  const uint16_t port = uplink_port_->io.ethdev;  // a DPDK device: MAC, promiscuity, rte_flow
  rte_ether_addr mac;
  if (rte_eth_macaddr_get(port, &mac) != 0)
    throw std::runtime_error("cannot read the MAC of uplink " + uplink_port_->dev_name);
  std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), uplink_mac_.bytes.begin());
  rte_eth_promiscuous_enable(port);  // a NIC must pass frames for our VTEP MAC and broadcasts

  VxlanFlowSpec spec{rte_cpu_to_be_32(config_.node_ip),
                     config_.effective_vxlan_port(),
                     config_.vxlan_vni,
                     kVxlanFlowMark,
                     {}};
  for (uint16_t q = 0; q < queues; ++q) spec.queues.push_back(q);
  OffloadProbe probe = probe_vxlan_offload(port, spec);
  uplink_flow_ = probe.flow;
  uplink_offload_ = probe.offloaded ? "rte_flow" : "software (" + probe.reason + ")";
}

void SwitchController::stop_overlay() {
  if (!uplink_port_) return;
  if (uplink_flow_ != nullptr) {
    if (auto error = remove_vxlan_offload(uplink_port_->io.ethdev, uplink_flow_))
      PODVS_LOG(warning, "removing the uplink's rte_flow rule: %s", error->c_str());
    uplink_flow_ = nullptr;
  }
  ports_->destroy(*uplink_port_);
  uplink_port_.reset();
  uplink_workers_.clear();
}

bool SwitchController::send_on_uplink(rte_mbuf* m) {
  m->port = uplink_port_->port_id;
  return workers_[0]->inject(m);
}

bool SwitchController::masquerade_enabled() const {
  return config_.overlay_enabled() && config_.masquerade && config_.cluster_cidr &&
         config_.uplink_gateway != 0 && config_.conntrack_entries != 0;
}

Ipv4 SwitchController::next_hop_for(Ipv4 node_ip) const {
  return node_subnet(config_).contains(node_ip) ? node_ip : config_.uplink_gateway;
}

OverlayState SwitchController::overlay_state() const {
  OverlayState o;
  if (!uplink_port_) return o;
  o.uplink_port = uplink_port_->port_id;
  o.vtep_mac = to_rte(uplink_mac_);
  o.node_ip = rte_cpu_to_be_32(config_.node_ip);
  o.vxlan =
      VxlanParams{config_.effective_vxlan_port(), config_.vxlan_vni, config_.vxlan_udp_checksum};
  o.max_inner_ip_len = static_cast<uint16_t>(config_.uplink_mtu - kVxlanOverhead);
  if (config_.cluster_cidr) {
    o.cluster_mask = rte_cpu_to_be_32(config_.cluster_cidr->mask());
    o.cluster_net = rte_cpu_to_be_32(config_.cluster_cidr->network);
  }
  if (config_.uplink_gateway != 0)
    if (auto mac = neighbours_.lookup(config_.uplink_gateway)) {
      o.gateway_resolved = true;
      o.gateway_mac = to_rte(*mac);
    }
  if (masquerade_enabled()) {
    o.masquerade = true;
    for (const Ipv4Prefix& p : config_.no_masquerade_cidrs)
      o.no_masquerade.emplace_back(rte_cpu_to_be_32(p.network), rte_cpu_to_be_32(p.mask()));
  }
  for (const auto& [name, node] : nodes_) {
    RemoteNode r;
    r.pod_cidr = node.cidr;
    r.vtep_mac = to_rte(node.vtep_mac);
    if (auto mac = neighbours_.lookup(node.next_hop)) {
      r.resolved = true;
      r.outer = make_vxlan_outer(o.vxlan, o.vtep_mac, to_rte(*mac), o.node_ip,
                                 rte_cpu_to_be_32(node.node_ip));
    }
    o.nodes.push_back(r);
  }
  return o;
}

void SwitchController::overlay_tick() {
  if (!uplink_port_) return;
  bool link_up = PortManager::link_up(*uplink_port_);
  if (link_up && !uplink_link_up_) {
    if (announce_node_ip())
      PODVS_LOG(info, "uplink %s: link up, announced %s", uplink_port_->dev_name.c_str(),
                ipv4_str(config_.node_ip).c_str());
    else
      link_up = false;  // out of mbufs, or worker 0's queue full: the next tick tries again
  }
  uplink_link_up_ = link_up;
  const auto now = NeighbourClock::now();
  for (auto& worker : workers_) {
    while (rte_mbuf* m = worker->take_punted()) {
      const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
      const size_t len = rte_pktmbuf_data_len(m);
      if (len > sizeof(rte_ether_hdr))
        if (auto learned = parse_arp_for_neighbour(reinterpret_cast<const rte_arp_hdr*>(eth + 1),
                                                   len - sizeof(rte_ether_hdr)))
          neighbours_.on_arp(learned->ip, learned->mac, now);
      rte_pktmbuf_free(m);
    }
  }
  const NeighbourActions actions = neighbours_.tick(now);
  for (Ipv4 target : actions.arp_requests) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) break;  // out of mbufs: the next tick asks again
    if (!build_arp_request(m, to_rte(uplink_mac_), rte_cpu_to_be_32(config_.node_ip),
                           rte_cpu_to_be_32(target)) ||
        !send_on_uplink(m))
      rte_pktmbuf_free(m);
  }
  if (actions.macs_changed) publish_table();
}

Result<RemoteNodeSpec> SwitchController::add_node(const RemoteNodeSpec& node) {
  return on_control_thread<RemoteNodeSpec>([this, node] {
    auto r = do_add_node(node);
    if (!r.is_ok()) return r;
    publish_table();
    if (std::string error = try_persist(); !error.empty())
      PODVS_LOG(warning, "node %s added but the state was not saved: %s", node.name.c_str(),
                error.c_str());
    return Result<RemoteNodeSpec>::ok(node_view(nodes_.at(node.name)));
  });
}

Result<RemoteNodeSpec> SwitchController::do_add_node(const RemoteNodeSpec& spec) {
  using R = Result<RemoteNodeSpec>;
  if (!uplink_port_)
    return R::fail(ErrorCode::invalid_argument,
                   "this podvsd has no uplink (set node_ip and uplink_interface, uplink_device or "
                   "uplink_vhost_socket)"
                   ": remote nodes need the overlay");
  if (!valid_pod_id(spec.name))
    return R::fail(
        ErrorCode::invalid_argument,
        "node name '" + spec.name + "' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'");
  if (auto old = nodes_.find(spec.name); old != nodes_.end())
    if (std::string refusal =
            replace_refusal("node " + spec.name, old->second.spec.owner, spec.owner);
        !refusal.empty())
      return R::fail(ErrorCode::failed_precondition, refusal);
  RemoteNodeEntry entry;
  entry.spec =
      RemoteNodeSpec{spec.name, spec.pod_cidr, spec.node_ip, spec.vtep_mac, spec.owner, "", "", ""};
  const auto cidr = Ipv4Prefix::parse(spec.pod_cidr);
  if (!cidr)
    return R::fail(ErrorCode::invalid_argument,
                   "pod_cidr '" + spec.pod_cidr + "' is not a network such as 10.244.1.0/24");
  const auto ip = parse_ipv4(spec.node_ip);
  if (!ip || *ip == 0)
    return R::fail(ErrorCode::invalid_argument,
                   "node_ip '" + spec.node_ip + "' is not an IPv4 address");
  const auto mac = MacAddr::parse(spec.vtep_mac);
  if (!mac || (mac->bytes[0] & 1) != 0)
    return R::fail(
        ErrorCode::invalid_argument,
        "vtep_mac '" + spec.vtep_mac + "' is not a unicast MAC such as 0a:58:0a:f4:01:01");
  const Ipv4Prefix& ours = config_.pod_cidr;
  if (ours.contains(cidr->network) || cidr->contains(ours.network))
    return R::fail(ErrorCode::invalid_argument,
                   "pod_cidr " + cidr->str() + " overlaps this node's pod CIDR " + ours.str());
  for (const auto& [name, other] : nodes_)
    if (name != spec.name &&
        (other.cidr.contains(cidr->network) || cidr->contains(other.cidr.network)))
      return R::fail(ErrorCode::already_exists, "pod_cidr " + cidr->str() + " overlaps node " +
                                                    name + "'s " + other.cidr.str());
  if (*ip == config_.node_ip)
    return R::fail(ErrorCode::invalid_argument, "node_ip " + spec.node_ip + " is this node's");
  entry.cidr = *cidr;
  entry.node_ip = *ip;
  entry.vtep_mac = *mac;
  entry.next_hop = next_hop_for(*ip);
  if (entry.next_hop == 0)
    return R::fail(ErrorCode::invalid_argument,
                   "node_ip " + spec.node_ip + " is outside the underlay subnet " +
                       node_subnet(config_).str() + " and no uplink_gateway is configured");
  if (next_hop_users_[entry.next_hop] == 0) {
    if (auto error = neighbours_.want(entry.next_hop, NeighbourClock::now())) {
      next_hop_users_.erase(entry.next_hop);
      return R::fail(ErrorCode::resource_exhausted, *error);
    }
  }
  ++next_hop_users_[entry.next_hop];
  if (auto old = nodes_.find(spec.name); old != nodes_.end()) release_next_hop(old->second);
  nodes_[spec.name] = entry;
  return R::ok(entry.spec);
}

void SwitchController::release_next_hop(const RemoteNodeEntry& node) {
  if (--next_hop_users_[node.next_hop] > 0) return;
  next_hop_users_.erase(node.next_hop);
  neighbours_.forget(node.next_hop);
}

Result<Empty> SwitchController::del_node(const std::string& name,
                                         const std::optional<std::string>& owner) {
  return on_control_thread<Empty>([this, name, owner] {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) return Result<Empty>::ok({});
    if (std::string refusal = delete_refusal("node " + name, it->second.spec.owner, owner);
        !refusal.empty())
      return Result<Empty>::fail(ErrorCode::failed_precondition, refusal);
    release_next_hop(it->second);
    nodes_.erase(it);
    publish_table();
    if (std::string error = try_persist(); !error.empty())
      PODVS_LOG(warning, "node %s deleted but the state was not saved: %s", name.c_str(),
                error.c_str());
    return Result<Empty>::ok({});
  });
}

Result<std::vector<RemoteNodeSpec>> SwitchController::list_nodes(
    const std::optional<std::string>& owner) {
  return on_control_thread<std::vector<RemoteNodeSpec>>([this, owner] {
    std::vector<RemoteNodeSpec> out;
    for (const auto& [name, node] : nodes_)
      if (owner_selected(owner, node.spec.owner)) out.push_back(node_view(node));
    return Result<std::vector<RemoteNodeSpec>>::ok(std::move(out));
  });
}

RemoteNodeSpec SwitchController::node_view(const RemoteNodeEntry& node) const {
  RemoteNodeSpec view = node.spec;
  view.next_hop = ipv4_str(node.next_hop);
  for (const NeighbourEntry& e : neighbours_.entries(NeighbourClock::now())) {
    if (e.ip != node.next_hop) continue;
    view.neighbour_state = e.state;
    if (e.mac) view.next_hop_mac = e.mac->str();
  }
  return view;
}

void SwitchController::fill_overlay_status(NodeStatus& s) const {
  if (!uplink_port_) return;
  s.node_ip = ipv4_str(config_.node_ip) + "/" + std::to_string(config_.node_prefix_length);
  s.vtep_mac = uplink_mac_.str();
  s.vxlan_port = config_.effective_vxlan_port();
  s.vni = config_.vxlan_vni;
  s.uplink_mtu = config_.uplink_mtu;
  s.uplink = uplink_port_->dev_name;
  s.uplink_offload = uplink_offload_;
  s.uplink_announcements = uplink_announcements_;
}

}  // namespace podvs
