// The control thread's half of Kubernetes Services: the API (add, delete, list), what a Service
// must satisfy beyond its own validity (its frontends free, clear of this node's addresses, within
// capacity), persistence in ServiceStore and restoring at start. Compiling Services into what
// workers read is services_changed's (the data path's) job; everything here runs on the control
// thread.
#include <chrono>
#include <utility>

#include "control/service_spec.h"
#include "vswitch/log.h"
#include "vswitch/switch_controller.h"

namespace podvs {
namespace {

std::string frontend_str(Ipv4 ip, ServiceProto protocol, uint16_t port) {
  return ipv4_str(ip) + ":" + std::to_string(port) + "/" + service_proto_name(protocol);
}

}  // namespace

Result<ServiceSpec> SwitchController::admit_service(const ServiceSpec& requested) const {
  using R = Result<ServiceSpec>;
  if (std::string error = validate_service(requested); !error.empty())
    return R::fail(ErrorCode::invalid_argument, error);
  ServiceSpec spec = requested;
  normalise_service(spec);
  const std::string key = service_key(spec.ns, spec.name);
  const std::string who = "service " + key + ": ";
  if (!services_enabled())
    return R::fail(ErrorCode::invalid_argument,
                   who + "Services need connection tracking on one worker; podvsd runs " +
                       std::to_string(config_.worker_cpus.size()) +
                       " workers with conntrack_entries " +
                       std::to_string(config_.conntrack_entries) +
                       " (replies are not yet handed between workers)");
  if (spec.endpoints.size() >= config_.maglev_table_size)
    return R::fail(ErrorCode::invalid_argument,
                   who + "its " + std::to_string(spec.endpoints.size()) +
                       " endpoints need a Maglev table larger than maglev_table_size " +
                       std::to_string(config_.maglev_table_size));

  const Ipv4 ip = *parse_ipv4(spec.cluster_ip);
  auto ours = [&](const std::string& what) {
    return R::fail(ErrorCode::invalid_argument, who + "cluster_ip " + spec.cluster_ip + " is " +
                                                    what +
                                                    "; a ClusterIP must be an address no "
                                                    "pod or node uses");
  };
  if (ip == config_.gateway_ip) return ours("the pods' gateway IP (gateway_ip)");
  if (ip == host_ip_) return ours("this node's host IP (on " + config_.host_port + ")");
  if (config_.node_ip != 0 && ip == config_.node_ip) return ours("this node's IP (node_ip)");
  if (config_.pod_cidr.contains(ip)) return ours("inside the pod CIDR " + config_.pod_cidr.str());
  if (config_.cluster_cidr && config_.cluster_cidr->contains(ip))
    return ours("inside the cluster CIDR " + config_.cluster_cidr->str());

  // A ClusterIP belongs to one Service: traffic to a port it lacks is rejected on its behalf.
  if (auto other = service_frontends_.lower_bound({ip, ServiceProto::tcp, 0});
      other != service_frontends_.end() && std::get<0>(other->first) == ip && other->second != key)
    return R::fail(ErrorCode::already_exists,
                   who + "cluster_ip " + spec.cluster_ip + " belongs to service " + other->second);
  for (const ServicePort& p : spec.ports) {
    auto taken = service_frontends_.find({ip, p.protocol, p.port});
    if (taken != service_frontends_.end() && taken->second != key)
      return R::fail(ErrorCode::already_exists, who + frontend_str(ip, p.protocol, p.port) +
                                                    " is already served by service " +
                                                    taken->second);
    if (p.node_port == 0) continue;
    taken = service_frontends_.find({0, p.protocol, p.node_port});
    if (taken != service_frontends_.end() && taken->second != key)
      return R::fail(ErrorCode::already_exists, who + "node_port " + std::to_string(p.node_port) +
                                                    "/" + service_proto_name(p.protocol) +
                                                    " is already used by service " + taken->second);
  }

  const auto old = services_.find(key);
  if (old == services_.end() && services_.size() >= kMaxServices)
    return R::fail(ErrorCode::resource_exhausted, who + "podvsd already serves " +
                                                      std::to_string(services_.size()) +
                                                      " services, its limit; delete one first");
  const size_t others =
      service_endpoints_ - (old == services_.end() ? 0 : old->second.endpoints.size());
  if (others + spec.endpoints.size() > kMaxServiceEndpoints)
    return R::fail(ErrorCode::resource_exhausted,
                   who + "its " + std::to_string(spec.endpoints.size()) +
                       " endpoints and the other services' " + std::to_string(others) +
                       " are more than podvsd's limit of " + std::to_string(kMaxServiceEndpoints) +
                       " endpoints in total");
  return R::ok(std::move(spec));
}

void SwitchController::install_service(const ServiceSpec& spec) {
  const std::string key = service_key(spec.ns, spec.name);
  uninstall_service(key);
  const Ipv4 ip = *parse_ipv4(spec.cluster_ip);
  for (const ServicePort& p : spec.ports) {
    service_frontends_[{ip, p.protocol, p.port}] = key;
    if (p.node_port != 0) service_frontends_[{0, p.protocol, p.node_port}] = key;
  }
  service_endpoints_ += spec.endpoints.size();
  services_[key] = spec;
}

void SwitchController::uninstall_service(const std::string& key) {
  const auto it = services_.find(key);
  if (it == services_.end()) return;
  const Ipv4 ip = *parse_ipv4(it->second.cluster_ip);
  for (const ServicePort& p : it->second.ports) {
    service_frontends_.erase({ip, p.protocol, p.port});
    if (p.node_port != 0) service_frontends_.erase({0, p.protocol, p.node_port});
  }
  service_endpoints_ -= it->second.endpoints.size();
  services_.erase(it);
}

Result<ServiceSpec> SwitchController::add_service(const ServiceSpec& spec) {
  return on_control_thread<ServiceSpec>([this, spec] {
    auto admitted = admit_service(spec);
    if (!admitted.is_ok()) return admitted;
    const ServiceSpec& service = *admitted.value;
    const std::string key = service_key(service.ns, service.name);
    try {
      service_store_.save(service);
    } catch (const std::exception& e) {
      return Result<ServiceSpec>::fail(ErrorCode::internal,
                                       "service " + key + " was not programmed: " + e.what());
    }
    install_service(service);
    services_changed(key);
    return admitted;
  });
}

Result<Empty> SwitchController::del_service(const std::string& ns, const std::string& name) {
  return on_control_thread<Empty>([this, ns, name] {
    const std::string key = service_key(ns, name);
    if (services_.count(key) == 0) return Result<Empty>::ok({});
    try {
      service_store_.remove(ns, name);
    } catch (const std::exception& e) {
      return Result<Empty>::fail(ErrorCode::internal,
                                 "service " + key + " was not deleted: " + e.what());
    }
    uninstall_service(key);
    services_changed(key);
    return Result<Empty>::ok({});
  });
}

Result<std::vector<ServiceSpec>> SwitchController::list_services() {
  return on_control_thread<std::vector<ServiceSpec>>([this] {
    std::vector<ServiceSpec> out;
    out.reserve(services_.size());
    for (const auto& [key, service] : services_) out.push_back(service);
    return Result<std::vector<ServiceSpec>>::ok(std::move(out));
  });
}

void SwitchController::restore_services() {
  // A damaged file stops the start (like the state file): guessing could serve the wrong
  // endpoints. A valid file that no longer fits this node (its config changed) is skipped.
  size_t restored = 0;
  for (const ServiceSpec& saved : service_store_.load_all()) {
    auto admitted = admit_service(saved);
    if (!admitted.is_ok()) {
      PODVS_LOG(warning, "saved service in %s not restored: %s",
                service_store_.file(saved.ns, saved.name).c_str(), admitted.error.message.c_str());
      continue;
    }
    install_service(*admitted.value);
    services_changed(service_key(saved.ns, saved.name));
    ++restored;
  }
  PODVS_LOG(info, "restored %zu services from %s", restored, service_store_.dir().c_str());
}

void SwitchController::flush_services(bool all) {
  try {
    if (all)
      service_store_.flush();
    else
      service_store_.flush_if_due(std::chrono::steady_clock::now());
  } catch (const std::exception& e) {
    // The Services are programmed; only their survival across a restart is at stake. The next
    // flush retries what is still pending.
    PODVS_LOG(error, "saving services: %s", e.what());
  }
}

}  // namespace podvs
