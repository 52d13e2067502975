// SwitchController: the node's pod CIDR. It starts as the configured one, is replaced over the API
// (SetPodCidr: podvs-agent learns the real one from Node.spec.podCIDR) while no pod exists, and is
// kept in the saved state, which wins over the configuration at the next start because the saved
// pods' addresses come from it. Everything built from it follows a change: IPAM, the host port's
// address, MAC and route, the forwarding table, Service admission and the compiled Services.
#include "base/log.h"
#include "control/daemon/pod_interface.h"
#include "control/daemon/switch_controller.h"

namespace podvs {

void SwitchController::use_pod_cidr(const Ipv4Prefix& cidr) {
  config_.pod_cidr = cidr;
  host_ip_ = host_address(cidr);
  host_mac_ = MacAddr::from_ipv4(host_ip_);
  ipam_ = Ipam(cidr, {host_ip_});
  service_admission_.set_node(service_node());
}

void SwitchController::adopt_saved_pod_cidr(const SwitchState& state) {
  if (state.pod_cidr == config_.pod_cidr.str()) return;
  Config candidate = config_;
  try {
    candidate.pod_cidr = parse_pod_cidr(state.pod_cidr);
    validate_pod_cidr(candidate);
  } catch (const ConfigError& e) {
    throw std::runtime_error("saved state in " + store_.file() + " has pod CIDR " + state.pod_cidr +
                             ", which this configuration cannot take: " + e.what() +
                             "; fix the configuration, or remove the file to start " +
                             "over with the configured pod CIDR " + config_.pod_cidr.str());
  }
  PODVS_LOG(warning,
            "pod CIDR %s from %s wins over the configured %s: the saved pods' addresses come from "
            "it (SetPodCidr replaces it while no pod exists)",
            state.pod_cidr.c_str(), store_.file().c_str(), config_.pod_cidr.str().c_str());
  use_pod_cidr(candidate.pod_cidr);
}

Result<NodeStatus> SwitchController::do_set_pod_cidr(const std::string& text) {
  using R = Result<NodeStatus>;
  const Ipv4Prefix old = config_.pod_cidr;
  const std::string stays = "; the pod CIDR stays " + old.str();
  Config candidate = config_;
  try {
    candidate.pod_cidr = parse_pod_cidr(text);
  } catch (const ConfigError& e) {
    return R::fail(ErrorCode::invalid_argument, std::string("pod_cidr ") + e.what() + stays);
  }
  try {
    validate_pod_cidr(candidate);
  } catch (const ConfigError& e) {
    return R::fail(ErrorCode::invalid_argument, e.what() + stays);
  }
  const Ipv4Prefix cidr = candidate.pod_cidr;
  if (cidr == old) return R::ok(node_status());

  const std::string change = "the pod CIDR cannot change from " + old.str() + " to " + cidr.str();
  if (!pods_.empty())
    return R::fail(ErrorCode::failed_precondition,
                   change + " while " + std::to_string(pods_.size()) +
                       (pods_.size() == 1 ? " pod exists" : " pods exist") +
                       " (their addresses come from it); delete every pod first");
  for (const auto& [name, node] : nodes_)
    if (node.cidr.contains(cidr.network) || cidr.contains(node.cidr.network))
      return R::fail(ErrorCode::failed_precondition, change + ": it overlaps remote node " + name +
                                                         "'s pod CIDR " + node.cidr.str() +
                                                         "; delete that node first");
  ServiceNode moved = service_node();
  moved.pod_cidr = cidr;
  moved.host_ip = host_address(cidr);
  if (std::string conflict = ServiceAdmission::conflict_with_node(moved, services_);
      !conflict.empty())
    return R::fail(ErrorCode::failed_precondition, change + ": " + conflict);

  // The kernel first, the only step that may fail half-way: the new address and route join the
  // old ones, which go only once everything else has followed.
  const Ipv4 old_host = host_ip_;
  const Ipv4 new_host = host_address(cidr);  // the same as old_host when the network stays
  const std::string& port = config_.host_port;
  const auto restore_host_port = [&] {
    try {
      unconfigure_host_interface(port, new_host, cidr, old_host);
      configure_host_interface(host_interface(old_host, old));
    } catch (const std::exception& undo) {
      PODVS_LOG(error, "host port %s not restored for pod CIDR %s: %s", port.c_str(),
                old.str().c_str(), undo.what());
    }
  };
  try {
    configure_host_interface(host_interface(new_host, cidr));
  } catch (const std::exception& e) {
    restore_host_port();
    return R::fail(ErrorCode::internal, "cannot give host port " + port + " the address " +
                                            ipv4_str(new_host) + " and a route to " + cidr.str() +
                                            ": " + e.what() + stays);
  }
  const Ipv4 cursor = ipam_.cursor();
  use_pod_cidr(cidr);
  try {
    persist();
  } catch (const std::exception& e) {
    // Unsaved, a restart would come back with the old CIDR: stay with it now too.
    use_pod_cidr(old);
    ipam_.set_cursor(cursor);
    restore_host_port();
    return R::fail(ErrorCode::internal, "the pod CIDR was not changed to " + cidr.str() +
                                            ": the state was not saved: " + e.what() + stays);
  }
  // Backends are local or not by the pod CIDR: every Service is compiled again, published once.
  for (const auto& [key, service] : services_) services_changed(key);
  publish_table();
  try {
    unconfigure_host_interface(port, old_host, old, new_host);
  } catch (const std::exception& e) {
    PODVS_LOG(warning, "host port %s keeps its old address %s: %s", port.c_str(),
              ipv4_str(old_host).c_str(), e.what());
  }
  PODVS_LOG(info, "pod CIDR changed from %s to %s (host port %s now %s)", old.str().c_str(),
            cidr.str().c_str(), port.c_str(), ipv4_str(new_host).c_str());
  return R::ok(node_status());
}

Result<NodeStatus> SwitchController::set_pod_cidr(const std::string& pod_cidr) {
  return on_control_thread<NodeStatus>([this, pod_cidr] { return do_set_pod_cidr(pod_cidr); });
}

}  // namespace podvs
