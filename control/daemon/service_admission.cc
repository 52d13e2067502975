#include "control/daemon/service_admission.h"

#include <utility>

#include "control/api/owner.h"
#include "control/api/service_spec.h"

namespace podvs {
namespace {

// "" or why `ip` (the ClusterIP of `spec`) cannot be one on `node`: it is one of the node's
// addresses or inside its pod or cluster CIDR.
std::string node_address_error(const ServiceNode& node, const ServiceSpec& spec, Ipv4 ip) {
  auto ours = [&](const std::string& what) {
    return "service " + service_key(spec.ns, spec.name) + ": cluster_ip " + spec.cluster_ip +
           " is " + what + "; a ClusterIP must be an address no pod or node uses";
  };
  if (ip == node.gateway_ip) return ours("the pods' gateway IP (gateway_ip)");
  if (ip == node.host_ip) return ours("this node's host IP (on " + node.host_port + ")");
  if (node.node_ip != 0 && ip == node.node_ip) return ours("this node's IP (node_ip)");
  if (node.pod_cidr.contains(ip)) return ours("inside the pod CIDR " + node.pod_cidr.str());
  if (node.cluster_cidr && node.cluster_cidr->contains(ip))
    return ours("inside the cluster CIDR " + node.cluster_cidr->str());
  return {};
}

}  // namespace

Result<ServiceSpec> ServiceAdmission::admit(
    const ServiceSpec& requested, const std::map<std::string, ServiceSpec>& services) const {
  using R = Result<ServiceSpec>;
  if (std::string error = validate_service(requested); !error.empty())
    return R::fail(ErrorCode::invalid_argument, error);
  ServiceSpec spec = requested;
  normalise_service(spec);
  const std::string key = service_key(spec.ns, spec.name);
  const std::string who = "service " + key + ": ";
  const auto old = services.find(key);
  // Ahead of the node's checks: a caller must learn that the name is another owner's, not what
  // else is wrong with a Service it may not replace anyway.
  if (old != services.end())
    if (std::string refusal = replace_refusal("service " + key, old->second.owner, spec.owner);
        !refusal.empty())
      return R::fail(ErrorCode::failed_precondition, refusal);
  if (!node_.unavailable.empty())
    return R::fail(ErrorCode::invalid_argument, who + node_.unavailable);
  if (spec.endpoints.size() >= node_.maglev_table_size)
    return R::fail(ErrorCode::invalid_argument,
                   who + "its " + std::to_string(spec.endpoints.size()) +
                       " endpoints need a Maglev table larger than maglev_table_size " +
                       std::to_string(node_.maglev_table_size));

  const Ipv4 ip = *parse_ipv4(spec.cluster_ip);
  if (std::string error = node_address_error(node_, spec, ip); !error.empty())
    return R::fail(ErrorCode::invalid_argument, error);

  // A ClusterIP belongs to one Service: traffic to a port it lacks is rejected on its behalf.
  if (auto other = frontends_.lower_bound({ip, ServiceProto::tcp, 0});
      other != frontends_.end() && std::get<0>(other->first) == ip && other->second != key)
    return R::fail(ErrorCode::already_exists,
                   who + "cluster_ip " + spec.cluster_ip + " belongs to service " + other->second);
  for (const ServicePort& p : spec.ports) {
    if (p.node_port == 0) continue;
    auto taken = frontends_.find({0, p.protocol, p.node_port});
    if (taken != frontends_.end() && taken->second != key)
      return R::fail(ErrorCode::already_exists, who + "node_port " + std::to_string(p.node_port) +
                                                    "/" + service_proto_name(p.protocol) +
                                                    " is already used by service " + taken->second);
  }

  if (old == services.end() && services.size() >= kMaxServices)
    return R::fail(ErrorCode::resource_exhausted, who + "podvsd already serves " +
                                                      std::to_string(services.size()) +
                                                      " services, its limit; delete one first");
  const size_t others = endpoints_ - (old == services.end() ? 0 : old->second.endpoints.size());
  if (others + spec.endpoints.size() > kMaxEndpoints)
    return R::fail(ErrorCode::resource_exhausted,
                   who + "its " + std::to_string(spec.endpoints.size()) +
                       " endpoints and the other services' " + std::to_string(others) +
                       " are more than podvsd's limit of " + std::to_string(kMaxEndpoints) +
                       " endpoints in total");
  return R::ok(std::move(spec));
}

std::string ServiceAdmission::conflict_with_node(
    const ServiceNode& node, const std::map<std::string, ServiceSpec>& services) {
  for (const auto& [key, spec] : services)
    if (std::string error = node_address_error(node, spec, *parse_ipv4(spec.cluster_ip));
        !error.empty())
      return error;
  return {};
}

void ServiceAdmission::added(const ServiceSpec& spec, const ServiceSpec* old) {
  if (old != nullptr) removed(*old);
  const std::string key = service_key(spec.ns, spec.name);
  const Ipv4 ip = *parse_ipv4(spec.cluster_ip);
  for (const ServicePort& p : spec.ports) {
    frontends_[{ip, p.protocol, p.port}] = key;
    if (p.node_port != 0) frontends_[{0, p.protocol, p.node_port}] = key;
  }
  endpoints_ += spec.endpoints.size();
}

void ServiceAdmission::removed(const ServiceSpec& old) {
  const Ipv4 ip = *parse_ipv4(old.cluster_ip);
  for (const ServicePort& p : old.ports) {
    frontends_.erase({ip, p.protocol, p.port});
    if (p.node_port != 0) frontends_.erase({0, p.protocol, p.node_port});
  }
  endpoints_ -= old.endpoints.size();
}

}  // namespace podvs
