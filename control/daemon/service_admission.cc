#include "control/daemon/service_admission.h"

#include <utility>

#include "control/api/owner.h"
#include "control/api/service_spec.h"

namespace podvs {
namespace {

// "" or why `ip` (the `field` of `spec`) cannot be one on `node`: it is one of the node's
// addresses or inside its pod or cluster CIDR. A ClusterIP must also lie in the service CIDR when
// the node routes one to podvs (it is the only range the node's own stack sends to us).
std::string node_address_error(const ServiceNode& node, const ServiceSpec& spec,
                               const std::string& field, Ipv4 ip, bool cluster_ip) {
  const std::string who =
      "service " + service_key(spec.ns, spec.name) + ": " + field + " " + ipv4_str(ip) + " is ";
  const std::string rule = cluster_ip ? "; a ClusterIP must be an address no pod or node uses"
                                      : "; an external IP must be an address no pod or node uses";
  auto ours = [&](const std::string& what) { return who + what + rule; };
  if (ip == node.gateway_ip) return ours("the pods' gateway IP (gateway_ip)");
  if (ip == node.host_ip) return ours("this node's host IP (on " + node.host_port + ")");
  if (node.node_ip != 0 && ip == node.node_ip)
    return ours(cluster_ip ? "this node's IP (node_ip)"
                           : "this node's IP (node_ip); serve it with a NodePort instead");
  if (node.pod_cidr.contains(ip)) return ours("inside the pod CIDR " + node.pod_cidr.str());
  if (node.cluster_cidr && node.cluster_cidr->contains(ip))
    return ours("inside the cluster CIDR " + node.cluster_cidr->str());
  if (cluster_ip && node.service_cidr && !node.service_cidr->contains(ip))
    return who + "outside the service CIDR " + node.service_cidr->str() +
           " (service_cidr, Kubernetes' --service-cluster-ip-range): the node routes only that "
           "range to podvs";
  return {};
}

std::string spec_address_error(const ServiceNode& node, const ServiceSpec& spec) {
  if (std::string error =
          node_address_error(node, spec, "cluster_ip", *parse_ipv4(spec.cluster_ip), true);
      !error.empty())
    return error;
  for (size_t i = 0; i < spec.external_ips.size(); ++i)
    if (std::string error =
            node_address_error(node, spec, "external_ips[" + std::to_string(i) + "]",
                               *parse_ipv4(spec.external_ips[i]), false);
        !error.empty())
      return error;
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
  if (std::string error = spec_address_error(node_, spec); !error.empty())
    return R::fail(ErrorCode::invalid_argument, error);

  // A ClusterIP belongs to one Service: traffic to a port it lacks is rejected on its behalf.
  if (auto other = cluster_ips_.find(ip); other != cluster_ips_.end() && other->second != key)
    return R::fail(ErrorCode::already_exists,
                   who + "cluster_ip " + spec.cluster_ip + " belongs to service " + other->second);
  if (auto other = frontends_.lower_bound({ip, ServiceProto::tcp, 0});
      other != frontends_.end() && std::get<0>(other->first) == ip && other->second != key)
    return R::fail(ErrorCode::already_exists, who + "cluster_ip " + spec.cluster_ip +
                                                  " is an external IP of service " + other->second);
  // External IPs may be shared by Services on different ports, as in Kubernetes, but never be a
  // ClusterIP, which owns all of its ports.
  for (size_t i = 0; i < spec.external_ips.size(); ++i) {
    const std::string& text = spec.external_ips[i];
    const Ipv4 external = *parse_ipv4(text);
    const std::string field = "external_ips[" + std::to_string(i) + "] " + text;
    if (auto other = cluster_ips_.find(external); other != cluster_ips_.end())
      return R::fail(ErrorCode::already_exists,
                     who + field + " is the cluster_ip of service " + other->second);
    for (const ServicePort& p : spec.ports) {
      auto taken = frontends_.find({external, p.protocol, p.port});
      if (taken != frontends_.end() && taken->second != key)
        return R::fail(ErrorCode::already_exists, who + field + " port " + std::to_string(p.port) +
                                                      "/" + service_proto_name(p.protocol) +
                                                      " is already served by service " +
                                                      taken->second);
    }
  }
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
    if (std::string error = spec_address_error(node, spec); !error.empty()) return error;
  return {};
}

void ServiceAdmission::added(const ServiceSpec& spec, const ServiceSpec* old) {
  if (old != nullptr) removed(*old);
  const std::string key = service_key(spec.ns, spec.name);
  const Ipv4 ip = *parse_ipv4(spec.cluster_ip);
  cluster_ips_[ip] = key;
  for (const ServicePort& p : spec.ports) {
    frontends_[{ip, p.protocol, p.port}] = key;
    if (p.node_port != 0) frontends_[{0, p.protocol, p.node_port}] = key;
    for (const std::string& external : spec.external_ips)
      frontends_[{*parse_ipv4(external), p.protocol, p.port}] = key;
  }
  endpoints_ += spec.endpoints.size();
}

void ServiceAdmission::removed(const ServiceSpec& old) {
  const Ipv4 ip = *parse_ipv4(old.cluster_ip);
  cluster_ips_.erase(ip);
  for (const ServicePort& p : old.ports) {
    frontends_.erase({ip, p.protocol, p.port});
    if (p.node_port != 0) frontends_.erase({0, p.protocol, p.node_port});
    for (const std::string& external : old.external_ips)
      frontends_.erase({*parse_ipv4(external), p.protocol, p.port});
  }
  endpoints_ -= old.endpoints.size();
}

}  // namespace podvs
