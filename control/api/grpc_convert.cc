#include "control/api/grpc_convert.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace podvs {
namespace {

constexpr const char* kDefaultIfname = "eth0";

grpc::StatusCode status_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::not_found:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::already_exists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case ErrorCode::resource_exhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::failed_precondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::internal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

// `field` names the message field in the error, e.g. "PortStats.kind of port tap0".
Result<PortKind> kind_from_proto(int kind, const std::string& field) {
  switch (kind) {
    case v1::PORT_KIND_UNSPECIFIED:
    case v1::PORT_KIND_TAP:
      return Result<PortKind>::ok(PortKind::tap);
    case v1::PORT_KIND_VHOST_USER:
      return Result<PortKind>::ok(PortKind::vhost_user);
    case v1::PORT_KIND_HOST:
      return Result<PortKind>::ok(PortKind::host);
    case v1::PORT_KIND_UPLINK:
      return Result<PortKind>::ok(PortKind::uplink);
  }
  return Result<PortKind>::fail(
      ErrorCode::invalid_argument,
      field + " is " + std::to_string(kind) +
          ", which is not a known port kind; expected PORT_KIND_TAP (1), PORT_KIND_VHOST_USER (2) "
          "or PORT_KIND_HOST (3)");
}

template <typename T, typename U>
Result<T> pass_error(const Result<U>& failed) {
  return Result<T>{std::nullopt, failed.error};
}

// `field` names the message field in errors, e.g. "Service default/web ports[1].port".
Result<uint16_t> port_from_proto(uint32_t value, const std::string& field, const char* range) {
  if (value <= UINT16_MAX) return Result<uint16_t>::ok(static_cast<uint16_t>(value));
  return Result<uint16_t>::fail(ErrorCode::invalid_argument,
                                field + " is " + std::to_string(value) + "; it must be " + range);
}

Result<ServiceProto> protocol_from_proto(int protocol, const std::string& field) {
  switch (protocol) {
    case v1::SERVICE_PROTOCOL_UNSPECIFIED:
    case v1::SERVICE_PROTOCOL_TCP:
      return Result<ServiceProto>::ok(ServiceProto::tcp);
    case v1::SERVICE_PROTOCOL_UDP:
      return Result<ServiceProto>::ok(ServiceProto::udp);
  }
  return Result<ServiceProto>::fail(
      ErrorCode::invalid_argument,
      field + " is " + std::to_string(protocol) +
          ", which is not a known protocol; expected SERVICE_PROTOCOL_TCP (1) or "
          "SERVICE_PROTOCOL_UDP (2)");
}

Result<TrafficPolicy> policy_from_proto(int policy, const std::string& field) {
  switch (policy) {
    case v1::TRAFFIC_POLICY_UNSPECIFIED:
    case v1::TRAFFIC_POLICY_CLUSTER:
      return Result<TrafficPolicy>::ok(TrafficPolicy::cluster);
    case v1::TRAFFIC_POLICY_LOCAL:
      return Result<TrafficPolicy>::ok(TrafficPolicy::local);
  }
  return Result<TrafficPolicy>::fail(
      ErrorCode::invalid_argument,
      field + " is " + std::to_string(policy) +
          ", which is not a known traffic policy; expected TRAFFIC_POLICY_CLUSTER (1) or "
          "TRAFFIC_POLICY_LOCAL (2)");
}

Result<ServicePort> from_proto(const v1::ServicePort& port, const std::string& field) {
  auto protocol = protocol_from_proto(port.protocol(), field + ".protocol");
  if (!protocol.is_ok()) return pass_error<ServicePort>(protocol);
  auto number = port_from_proto(port.port(), field + ".port", "1..65535");
  if (!number.is_ok()) return pass_error<ServicePort>(number);
  auto target = port_from_proto(port.target_port(), field + ".target_port",
                                "0 (the same as port) or 1..65535");
  if (!target.is_ok()) return pass_error<ServicePort>(target);
  auto node = port_from_proto(port.node_port(), field + ".node_port", "0 (none) or 1..65535");
  if (!node.is_ok()) return pass_error<ServicePort>(node);
  return Result<ServicePort>::ok(
      {port.name(), *protocol.value, *number.value, *target.value, *node.value});
}

DropCount from_proto(const v1::DropCount& drop) { return {drop.reason(), drop.packets()}; }

void to_proto(const DropCount& drop, v1::DropCount* out) {
  out->set_reason(drop.reason);
  out->set_packets(drop.packets);
}

v1::WorkerStats to_proto(const WorkerStats& w) {
  v1::WorkerStats out;
  out.set_worker(w.worker);
  out.set_lcore(w.lcore);
  out.set_cpu(w.cpu);
  out.set_rx_packets(w.rx_packets);
  out.set_tx_packets(w.tx_packets);
  out.set_busy_cycles(w.busy_cycles);
  out.set_idle_cycles(w.idle_cycles);
  out.set_cycles_per_packet(w.cycles_per_packet);
  out.set_rx_queues(w.rx_queues);
  out.set_flow_cache_hits(w.flow_cache_hits);
  out.set_flow_cache_misses(w.flow_cache_misses);
  out.set_rx_bursts(w.rx_bursts);
  out.set_conntrack_entries(w.conntrack_entries);
  out.set_conntrack_created(w.conntrack_created);
  out.set_conntrack_expired(w.conntrack_expired);
  out.set_affinity_full(w.affinity_full);
  return out;
}

WorkerStats from_proto(const v1::WorkerStats& w) {
  WorkerStats out;
  out.worker = w.worker();
  out.lcore = w.lcore();
  out.cpu = w.cpu();
  out.rx_packets = w.rx_packets();
  out.tx_packets = w.tx_packets();
  out.busy_cycles = w.busy_cycles();
  out.idle_cycles = w.idle_cycles();
  out.cycles_per_packet = w.cycles_per_packet();
  out.rx_queues = w.rx_queues();
  out.flow_cache_hits = w.flow_cache_hits();
  out.flow_cache_misses = w.flow_cache_misses();
  out.rx_bursts = w.rx_bursts();
  out.conntrack_entries = w.conntrack_entries();
  out.conntrack_created = w.conntrack_created();
  out.conntrack_expired = w.conntrack_expired();
  out.affinity_full = w.affinity_full();
  return out;
}

}  // namespace

grpc::Status to_status(const Error& error) { return {status_code(error.code), error.message}; }

v1::PortKind to_proto(PortKind kind) {
  switch (kind) {
    case PortKind::tap:
      return v1::PORT_KIND_TAP;
    case PortKind::vhost_user:
      return v1::PORT_KIND_VHOST_USER;
    case PortKind::host:
      return v1::PORT_KIND_HOST;
    case PortKind::uplink:
      return v1::PORT_KIND_UPLINK;
  }
  return v1::PORT_KIND_UNSPECIFIED;
}

v1::PodSpec to_proto(const PodSpec& spec) {
  v1::PodSpec out;
  out.set_id(spec.id);
  out.set_netns(spec.netns);
  out.set_ifname(spec.ifname);
  out.set_kind(to_proto(spec.kind));
  out.set_vhost_server(spec.vhost_server);
  out.set_k8s_namespace(spec.k8s_namespace);
  out.set_k8s_name(spec.k8s_name);
  out.set_owner(spec.owner);
  out.set_queues(spec.queues);
  return out;
}

Result<PodSpec> from_proto(const v1::PodSpec& spec) {
  auto kind = kind_from_proto(spec.kind(), "PodSpec.kind of pod '" + spec.id() + "'");
  if (!kind.is_ok()) return pass_error<PodSpec>(kind);
  PodSpec out;
  out.id = spec.id();
  out.netns = spec.netns();
  out.ifname = spec.ifname().empty() ? kDefaultIfname : spec.ifname();
  out.kind = *kind.value;
  out.vhost_server = spec.vhost_server();
  out.k8s_namespace = spec.k8s_namespace();
  out.k8s_name = spec.k8s_name();
  out.owner = spec.owner();
  // Beyond uint16_t it is out of range all the same: validation names the limit.
  out.queues =
      spec.queues() == 0 ? 1 : static_cast<uint16_t>(std::min<uint32_t>(spec.queues(), 0xffff));
  return Result<PodSpec>::ok(std::move(out));
}

v1::PodInfo to_proto(const PodInfo& pod) {
  v1::PodInfo out;
  *out.mutable_spec() = to_proto(pod.spec);
  out.set_ip(pod.ip);
  out.set_mac(pod.mac);
  out.set_gateway_ip(pod.gateway_ip);
  out.set_mtu(pod.mtu);
  out.set_port_name(pod.port_name);
  out.set_port_id(pod.port_id);
  out.set_socket_path(pod.socket_path);
  out.set_status(pod.status);
  return out;
}

Result<PodInfo> from_proto(const v1::PodInfo& pod) {
  auto spec = from_proto(pod.spec());
  if (!spec.is_ok()) return pass_error<PodInfo>(spec);
  PodInfo out;
  out.spec = std::move(*spec.value);
  out.ip = pod.ip();
  out.mac = pod.mac();
  out.gateway_ip = pod.gateway_ip();
  out.mtu = pod.mtu();
  out.port_name = pod.port_name();
  out.port_id = pod.port_id();
  out.socket_path = pod.socket_path();
  out.status = pod.status();
  return Result<PodInfo>::ok(std::move(out));
}

v1::PortStats to_proto(const PortStats& port) {
  v1::PortStats out;
  out.set_name(port.name);
  out.set_port_id(port.port_id);
  out.set_kind(to_proto(port.kind));
  out.set_pod_id(port.pod_id);
  out.set_link(port.link);
  out.set_rx_packets(port.rx_packets);
  out.set_rx_bytes(port.rx_bytes);
  out.set_tx_packets(port.tx_packets);
  out.set_tx_bytes(port.tx_bytes);
  out.set_worker(port.worker);
  for (const auto& drop : port.drops) to_proto(drop, out.add_drops());
  for (int w : port.queue_workers) out.add_queue_workers(w);
  return out;
}

Result<PortStats> from_proto(const v1::PortStats& port) {
  auto kind = kind_from_proto(port.kind(), "PortStats.kind of port '" + port.name() + "'");
  if (!kind.is_ok()) return pass_error<PortStats>(kind);
  PortStats out;
  out.name = port.name();
  out.port_id = port.port_id();
  out.kind = *kind.value;
  out.pod_id = port.pod_id();
  out.link = port.link();
  out.rx_packets = port.rx_packets();
  out.rx_bytes = port.rx_bytes();
  out.tx_packets = port.tx_packets();
  out.tx_bytes = port.tx_bytes();
  out.worker = port.worker();
  for (const auto& drop : port.drops()) out.drops.push_back(from_proto(drop));
  out.queue_workers.assign(port.queue_workers().begin(), port.queue_workers().end());
  return Result<PortStats>::ok(std::move(out));
}

v1::SwitchStats to_proto(const SwitchStats& stats) {
  v1::SwitchStats out;
  for (const auto& worker : stats.workers) *out.add_workers() = to_proto(worker);
  for (const auto& port : stats.ports) *out.add_ports() = to_proto(port);
  for (const auto& drop : stats.drops) to_proto(drop, out.add_drops());
  out.set_mbufs_total(stats.mbufs_total);
  out.set_mbufs_in_use(stats.mbufs_in_use);
  out.set_tsc_hz(stats.tsc_hz);
  return out;
}

v1::NodeStatus to_proto(const NodeStatus& status) {
  v1::NodeStatus out;
  out.set_version(status.version);
  out.set_pod_cidr(status.pod_cidr);
  out.set_gateway_ip(status.gateway_ip);
  out.set_host_ip(status.host_ip);
  out.set_mtu(status.mtu);
  out.set_addresses_total(status.addresses_total);
  out.set_addresses_used(status.addresses_used);
  out.set_ports_used(status.ports_used);
  out.set_ports_max(status.ports_max);
  out.set_workers(status.workers);
  out.set_node_ip(status.node_ip);
  out.set_vtep_mac(status.vtep_mac);
  out.set_vxlan_port(status.vxlan_port);
  out.set_vni(status.vni);
  out.set_uplink_mtu(status.uplink_mtu);
  out.set_uplink(status.uplink);
  out.set_uplink_offload(status.uplink_offload);
  out.set_instance_id(status.instance_id);
  out.set_pods(status.pods);
  out.set_pods_max(status.pods_max);
  out.set_pods_bound(status.pods_bound);
  out.set_uplink_announcements(status.uplink_announcements);
  for (const AgentSeen& agent : status.agents) {
    v1::AgentSeen* seen = out.add_agents();
    *seen->mutable_report() = to_proto(agent.report);
    seen->set_report_age_s(agent.report_age_s);
  }
  return out;
}

v1::AgentReport to_proto(const AgentReport& report) {
  v1::AgentReport out;
  out.set_name(report.name);
  out.set_version(report.version);
  out.set_pid(report.pid);
  out.set_synced(report.synced);
  out.set_last_sync_unix_s(report.last_sync_unix_s);
  out.set_services(report.services);
  out.set_nodes(report.nodes);
  return out;
}

AgentReport from_proto(const v1::AgentReport& report) {
  return AgentReport{report.name(),   report.version(),          report.pid(),
                     report.synced(), report.last_sync_unix_s(), report.services(),
                     report.nodes()};
}

v1::RemoteNode to_proto(const RemoteNodeSpec& node) {
  v1::RemoteNode out;
  out.set_name(node.name);
  out.set_pod_cidr(node.pod_cidr);
  out.set_node_ip(node.node_ip);
  out.set_vtep_mac(node.vtep_mac);
  out.set_next_hop(node.next_hop);
  out.set_next_hop_mac(node.next_hop_mac);
  out.set_neighbour_state(node.neighbour_state);
  out.set_owner(node.owner);
  return out;
}

RemoteNodeSpec from_proto(const v1::RemoteNode& node) {
  return RemoteNodeSpec{node.name(),  node.pod_cidr(), node.node_ip(),      node.vtep_mac(),
                        node.owner(), node.next_hop(), node.next_hop_mac(), node.neighbour_state()};
}

v1::Service to_proto(const ServiceSpec& service) {
  v1::Service out;
  out.set_namespace_(service.ns);
  out.set_name(service.name);
  out.set_cluster_ip(service.cluster_ip);
  for (const std::string& ip : service.external_ips) out.add_external_ips(ip);
  for (const ServicePort& p : service.ports) {
    v1::ServicePort* port = out.add_ports();
    port->set_name(p.name);
    port->set_protocol(p.protocol == ServiceProto::udp ? v1::SERVICE_PROTOCOL_UDP
                                                       : v1::SERVICE_PROTOCOL_TCP);
    port->set_port(p.port);
    port->set_target_port(p.target_port);
    port->set_node_port(p.node_port);
  }
  for (const ServiceEndpoint& e : service.endpoints) {
    v1::ServiceEndpoint* endpoint = out.add_endpoints();
    endpoint->set_ip(e.ip);
    endpoint->set_ready(e.ready);
    endpoint->set_serving(e.serving);
    endpoint->set_terminating(e.terminating);
    for (const EndpointPort& p : e.ports) {
      v1::EndpointPort* port = endpoint->add_ports();
      port->set_name(p.name);
      port->set_port(p.port);
    }
  }
  out.set_client_ip_affinity(service.client_ip_affinity);
  out.set_affinity_timeout_s(service.affinity_timeout_s);
  auto policy = [](TrafficPolicy p) {
    return p == TrafficPolicy::local ? v1::TRAFFIC_POLICY_LOCAL : v1::TRAFFIC_POLICY_CLUSTER;
  };
  out.set_external_traffic_policy(policy(service.external_traffic_policy));
  out.set_internal_traffic_policy(policy(service.internal_traffic_policy));
  out.set_owner(service.owner);
  return out;
}

Result<ServiceSpec> from_proto(const v1::Service& service) {
  const std::string where = "Service " + service.namespace_() + "/" + service.name();
  ServiceSpec out;
  out.ns = service.namespace_();
  out.name = service.name();
  out.cluster_ip = service.cluster_ip();
  out.external_ips.assign(service.external_ips().begin(), service.external_ips().end());
  for (int i = 0; i < service.ports_size(); ++i) {
    auto port = from_proto(service.ports(i), where + " ports[" + std::to_string(i) + "]");
    if (!port.is_ok()) return pass_error<ServiceSpec>(port);
    out.ports.push_back(std::move(*port.value));
  }
  for (int i = 0; i < service.endpoints_size(); ++i) {
    const v1::ServiceEndpoint& e = service.endpoints(i);
    const ServiceEndpoint defaults;
    ServiceEndpoint endpoint{e.ip(), e.has_ready() ? e.ready() : defaults.ready,
                             e.has_serving() ? e.serving() : defaults.serving,
                             e.has_terminating() ? e.terminating() : defaults.terminating};
    for (int j = 0; j < e.ports_size(); ++j) {
      auto port = port_from_proto(
          e.ports(j).port(),
          where + " endpoints[" + std::to_string(i) + "].ports[" + std::to_string(j) + "].port",
          "1..65535");
      if (!port.is_ok()) return pass_error<ServiceSpec>(port);
      endpoint.ports.push_back({e.ports(j).name(), *port.value});
    }
    out.endpoints.push_back(std::move(endpoint));
  }
  out.client_ip_affinity = service.client_ip_affinity();
  if (service.affinity_timeout_s() != 0) out.affinity_timeout_s = service.affinity_timeout_s();
  auto external =
      policy_from_proto(service.external_traffic_policy(), where + " external_traffic_policy");
  if (!external.is_ok()) return pass_error<ServiceSpec>(external);
  auto internal =
      policy_from_proto(service.internal_traffic_policy(), where + " internal_traffic_policy");
  if (!internal.is_ok()) return pass_error<ServiceSpec>(internal);
  out.external_traffic_policy = *external.value;
  out.internal_traffic_policy = *internal.value;
  out.owner = service.owner();
  return Result<ServiceSpec>::ok(std::move(out));
}

v1::RecentDrop to_proto(const RecentDrop& drop) {
  v1::RecentDrop out;
  out.set_time_unix_ns(drop.time_unix_ns);
  out.set_worker(drop.worker);
  out.set_port(drop.port);
  out.set_pod_id(drop.pod_id);
  out.set_reason(drop.reason);
  out.set_length(drop.length);
  out.set_headers(drop.headers);
  return out;
}

RecentDrop from_proto(const v1::RecentDrop& drop) {
  return RecentDrop{drop.time_unix_ns(), drop.worker(), drop.port(),   drop.pod_id(),
                    drop.reason(),       drop.length(), drop.headers()};
}

namespace {

std::vector<AgentSeen> agents_from_proto(const v1::NodeStatus& status) {
  std::vector<AgentSeen> out;
  for (const auto& seen : status.agents())
    out.push_back({podvs::from_proto(seen.report()), seen.report_age_s()});
  return out;
}

}  // namespace

NodeStatus from_proto(const v1::NodeStatus& status) {
  return NodeStatus{status.version(),
                    status.pod_cidr(),
                    status.gateway_ip(),
                    status.host_ip(),
                    status.mtu(),
                    status.addresses_total(),
                    status.addresses_used(),
                    status.ports_used(),
                    status.ports_max(),
                    status.workers(),
                    status.node_ip(),
                    status.vtep_mac(),
                    status.vxlan_port(),
                    status.vni(),
                    status.uplink_mtu(),
                    status.uplink(),
                    status.uplink_offload(),
                    status.instance_id(),
                    agents_from_proto(status),
                    status.pods(),
                    status.pods_max(),
                    status.pods_bound(),
                    status.uplink_announcements()};
}

Result<SwitchStats> from_proto(const v1::SwitchStats& stats) {
  SwitchStats out;
  for (const auto& worker : stats.workers()) out.workers.push_back(from_proto(worker));
  for (const auto& port : stats.ports()) {
    auto converted = from_proto(port);
    if (!converted.is_ok()) return pass_error<SwitchStats>(converted);
    out.ports.push_back(std::move(*converted.value));
  }
  for (const auto& drop : stats.drops()) out.drops.push_back(from_proto(drop));
  out.mbufs_total = stats.mbufs_total();
  out.mbufs_in_use = stats.mbufs_in_use();
  out.tsc_hz = stats.tsc_hz();
  return Result<SwitchStats>::ok(std::move(out));
}

}  // namespace podvs
