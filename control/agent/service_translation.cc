#include "control/agent/service_translation.h"

#include <algorithm>
#include <map>

#include "base/net_types.h"
#include "control/api/service_spec.h"

namespace podvs::agent {
namespace {

using nlohmann::json;

// Thrown by the readers below for a field of the wrong type; caught in service_from, so a
// malformed object becomes a reason, never an exception out of this file.
struct Malformed {
  std::string problem;
};

const json* child(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// The member at `key` (absent or null: nullptr), which must be of the JSON type `is` checks.
template <typename Check>
const json* typed(const json& object, const char* key, const std::string& field, Check is,
                  const char* type) {
  const json* value = child(object, key);
  if (value && !(value->*is)()) throw Malformed{field + " is not " + type};
  return value;
}

std::optional<std::string> string_at(const json& object, const char* key,
                                     const std::string& field) {
  const json* v = typed(object, key, field, &json::is_string, "a string");
  return v ? std::optional(v->get<std::string>()) : std::nullopt;
}

const json* object_at(const json& object, const char* key, const std::string& field) {
  return typed(object, key, field, &json::is_object, "an object");
}

const json* array_at(const json& object, const char* key, const std::string& field) {
  return typed(object, key, field, &json::is_array, "an array");
}

std::optional<bool> bool_at(const json& object, const char* key, const std::string& field) {
  const json* v = typed(object, key, field, &json::is_boolean, "true or false");
  return v ? std::optional(v->get<bool>()) : std::nullopt;
}

// An integer in [min, max], or nullopt when absent.
std::optional<int64_t> int_at(const json& object, const char* key, const std::string& field,
                              int64_t min, int64_t max) {
  const json* v = typed(object, key, field, &json::is_number_integer, "an integer");
  if (!v) return std::nullopt;
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max)
    throw Malformed{field + " " + std::to_string(n) + " is out of range " + std::to_string(min) +
                    ".." + std::to_string(max)};
  return n;
}

bool is_ipv6(const std::string& ip) { return ip.find(':') != std::string::npos; }

const json* labels_of(const json& object) {
  const json* meta = object_at(object, "metadata", "metadata");
  return meta ? object_at(*meta, "labels", "metadata.labels") : nullptr;
}

// The IPv4 ClusterIP: spec.clusterIP, or on a dual-stack Service whose primary family is IPv6
// the IPv4 entry of spec.clusterIPs (kube-proxy serves each family's own).
std::optional<std::string> ipv4_cluster_ip(const json& spec) {
  if (const json* ips = array_at(spec, "clusterIPs", "spec.clusterIPs"))
    for (const json& ip : *ips)
      if (ip.is_string() && parse_ipv4(ip.get<std::string>())) return ip.get<std::string>();
  return std::nullopt;
}

// Protocol of a Service or slice port: TCP when absent (the API's default).
std::optional<ServiceProto> protocol_of(const json& port, const std::string& field,
                                        std::string* name) {
  const std::string protocol = string_at(port, "protocol", field + ".protocol").value_or("TCP");
  if (name) *name = protocol;
  if (protocol == "TCP") return ServiceProto::tcp;
  if (protocol == "UDP") return ServiceProto::udp;
  return std::nullopt;
}

// A Service port read from spec.ports[i]: nullopt (with a note) for a protocol podvs does not
// switch. `target_port` stays 0 for a named targetPort: only the slices resolve it.
std::optional<ServicePort> service_port(const json& p, const std::string& field,
                                        std::vector<std::string>& notes) {
  if (!p.is_object()) throw Malformed{field + " is not an object"};
  ServicePort port;
  port.name = string_at(p, "name", field + ".name").value_or("");
  std::string protocol;
  const auto proto = protocol_of(p, field, &protocol);
  const auto number = int_at(p, "port", field + ".port", 1, 65535);
  if (!number) throw Malformed{field + " has no port"};
  port.port = static_cast<uint16_t>(*number);
  if (!proto) {
    notes.push_back(field + " (" + protocol + " " + std::to_string(port.port) + "): protocol " +
                    protocol + " is unsupported; the port is not served");
    return std::nullopt;
  }
  port.protocol = *proto;
  if (const json* target = child(p, "targetPort")) {
    if (target->is_number_integer()) {
      const int64_t n = target->get<int64_t>();
      if (n < 1 || n > 65535)
        throw Malformed{field + ".targetPort " + std::to_string(n) + " is out of range 1..65535"};
      port.target_port = static_cast<uint16_t>(n);
    } else if (!target->is_string()) {
      throw Malformed{field + ".targetPort is neither a number nor a port name"};
    }
  }
  port.node_port =
      static_cast<uint16_t>(int_at(p, "nodePort", field + ".nodePort", 0, 65535).value_or(0));
  return port;
}

struct SlicePort {
  std::string name;
  std::optional<ServiceProto> protocol;
  uint16_t port = 0;
};

// The slice's ports with a number (kube-proxy ignores those without); malformed entries are
// noted and skipped, since one bad slice must not take the Service down.
std::vector<SlicePort> slice_ports(const json& slice, const std::string& field) {
  std::vector<SlicePort> out;
  const json* ports = array_at(slice, "ports", field + ".ports");
  if (!ports) return out;
  for (size_t i = 0; i < ports->size(); ++i) {
    const std::string f = field + ".ports[" + std::to_string(i) + "]";
    const json& p = (*ports)[i];
    if (!p.is_object()) throw Malformed{f + " is not an object"};
    SlicePort sp;
    sp.name = string_at(p, "name", f + ".name").value_or("");
    sp.protocol = protocol_of(p, f, nullptr);
    const auto number = int_at(p, "port", f + ".port", 1, 65535);
    if (!number) continue;
    sp.port = static_cast<uint16_t>(*number);
    out.push_back(sp);
  }
  return out;
}

std::string slice_name(const json& slice) {
  const json* meta = child(slice, "metadata");
  const json* name = meta ? child(*meta, "name") : nullptr;
  return name && name->is_string() ? name->get<std::string>() : "?";
}

struct Endpoints {
  std::map<Ipv4, ServiceEndpoint> by_ip;  // sorted by address: the same list whatever the order
};

// Adds the endpoints of one IPv4 slice. A duplicate address (an endpoint moving between slices)
// is merged: a ready copy wins over one that is not, and ports either copy names are kept.
// Throws Malformed for a slice with a field of the wrong type.
void add_slice(const json& slice, const std::vector<ServicePort>& service_ports, Endpoints& out,
               std::vector<std::string>& notes) {
  const std::string field = "EndpointSlice " + slice_name(slice);
  if (!slice.is_object()) throw Malformed{field + " is not an object"};
  const std::string type = string_at(slice, "addressType", field + ".addressType").value_or("");
  if (type != "IPv4") return;  // IPv6 and FQDN slices are not podvs's
  if (const json* labels = labels_of(slice); labels && child(*labels, kServiceProxyNameLabel))
    return;
  std::vector<EndpointPort> ports;
  for (const SlicePort& sp : slice_ports(slice, field))
    for (const ServicePort& port : service_ports)
      if (port.name == sp.name && (!sp.protocol || *sp.protocol == port.protocol))
        ports.push_back({sp.name, sp.port});
  // A slice naming none of the Service's ports gives kube-proxy no endpoint for any of them.
  if (ports.empty()) return;
  const json* endpoints = array_at(slice, "endpoints", field + ".endpoints");
  if (!endpoints) return;
  std::vector<std::pair<Ipv4, ServiceEndpoint>> read;
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const std::string f = field + ".endpoints[" + std::to_string(i) + "]";
    const json& e = (*endpoints)[i];
    if (!e.is_object()) throw Malformed{f + " is not an object"};
    const json* addresses = array_at(e, "addresses", f + ".addresses");
    // kube-proxy takes the first address: the API says all of an endpoint's are fungible.
    if (!addresses || addresses->empty() || !(*addresses)[0].is_string()) {
      notes.push_back(f + " has no address string: skipped");
      continue;
    }
    const std::string ip = (*addresses)[0].get<std::string>();
    const auto parsed = parse_ipv4(ip);
    if (!parsed) {
      notes.push_back(f + " address '" + ip + "' is not an IPv4 address: skipped");
      continue;
    }
    ServiceEndpoint endpoint;
    endpoint.ip = ipv4_str(*parsed);
    // The API's reading of absent conditions: ready unknown counts as ready; serving absent
    // defers to ready; terminating absent is false.
    if (const json* c = object_at(e, "conditions", f + ".conditions")) {
      endpoint.ready = bool_at(*c, "ready", f + ".conditions.ready").value_or(true);
      endpoint.serving = bool_at(*c, "serving", f + ".conditions.serving").value_or(endpoint.ready);
      endpoint.terminating =
          bool_at(*c, "terminating", f + ".conditions.terminating").value_or(false);
    }
    endpoint.ports = ports;
    read.emplace_back(*parsed, std::move(endpoint));
  }
  // Merged only once the whole slice has been read: a malformed slice adds nothing.
  for (auto& [ip, endpoint] : read) {
    auto [it, added] = out.by_ip.emplace(ip, endpoint);
    if (added) continue;
    ServiceEndpoint& kept = it->second;
    if (endpoint.ready && !kept.ready) std::swap(kept, endpoint);
    for (const EndpointPort& p : endpoint.ports)
      if (std::none_of(kept.ports.begin(), kept.ports.end(),
                       [&](const EndpointPort& k) { return k.name == p.name; }))
        kept.ports.push_back(p);
  }
}

TrafficPolicy traffic_policy(const json& spec, const char* key) {
  const std::string field = std::string("spec.") + key;
  const auto value = string_at(spec, key, field);
  // "Global" is the API's older spelling of Cluster for externalTrafficPolicy.
  if (!value || *value == "Cluster" || *value == "Global") return TrafficPolicy::cluster;
  if (*value == "Local") return TrafficPolicy::local;
  throw Malformed{field + " '" + *value + "' is neither Cluster nor Local"};
}

ServiceTranslation skip(SkipReason reason, std::string problem) {
  ServiceTranslation t;
  t.reason = reason;
  t.problem = std::move(problem);
  return t;
}

ServiceTranslation translate(const json& service, const std::vector<json>& slices) {
  if (!service.is_object()) throw Malformed{"the Service is not an object"};
  const json* meta = object_at(service, "metadata", "metadata");
  if (!meta) throw Malformed{"metadata is missing"};
  ServiceSpec spec;
  spec.ns = string_at(*meta, "namespace", "metadata.namespace").value_or("");
  spec.name = string_at(*meta, "name", "metadata.name").value_or("");
  if (const json* labels = labels_of(service); labels && child(*labels, kServiceProxyNameLabel))
    return skip(SkipReason::proxy_name,
                std::string("labelled ") + kServiceProxyNameLabel + ": another proxy serves it");
  const json* s = object_at(service, "spec", "spec");
  if (!s) throw Malformed{"spec is missing"};
  if (string_at(*s, "type", "spec.type").value_or("ClusterIP") == "ExternalName")
    return skip(SkipReason::external_name, "type ExternalName: a DNS name, nothing to proxy");
  const auto cluster_ip = string_at(*s, "clusterIP", "spec.clusterIP");
  if (cluster_ip == "None") return skip(SkipReason::headless, "headless (clusterIP None)");
  if (!cluster_ip || cluster_ip->empty()) return skip(SkipReason::no_cluster_ip, "no clusterIP");
  spec.cluster_ip = *cluster_ip;
  if (is_ipv6(*cluster_ip)) {
    const auto v4 = ipv4_cluster_ip(*s);
    if (!v4)
      return skip(SkipReason::ipv6, "clusterIP " + *cluster_ip + " is IPv6; podvs is IPv4 only");
    spec.cluster_ip = *v4;
  }

  ServiceTranslation t;
  const json* ports = array_at(*s, "ports", "spec.ports");
  if (ports && ports->size() > kMaxPortsPerService)
    return skip(SkipReason::too_many_ports, "it has " + std::to_string(ports->size()) +
                                                " ports; podvsd takes at most " +
                                                std::to_string(kMaxPortsPerService));
  const size_t declared = ports ? ports->size() : 0;
  for (size_t i = 0; i < declared; ++i)
    if (auto port = service_port((*ports)[i], "spec.ports[" + std::to_string(i) + "]", t.notes))
      spec.ports.push_back(*port);
  if (declared > 0 && spec.ports.empty())
    return skip(SkipReason::unsupported_protocol, "none of its ports is TCP or UDP");

  if (string_at(*s, "sessionAffinity", "spec.sessionAffinity").value_or("None") == "ClientIP") {
    spec.client_ip_affinity = true;
    spec.affinity_timeout_s = kDefaultAffinityTimeoutS;
    const json* config = object_at(*s, "sessionAffinityConfig", "spec.sessionAffinityConfig");
    const json* client =
        config ? object_at(*config, "clientIP", "sessionAffinityConfig.clientIP") : nullptr;
    if (client)
      spec.affinity_timeout_s = static_cast<uint32_t>(
          int_at(*client, "timeoutSeconds", "sessionAffinityConfig.clientIP.timeoutSeconds", 0,
                 UINT32_MAX)
              .value_or(kDefaultAffinityTimeoutS));
  }
  spec.external_traffic_policy = traffic_policy(*s, "externalTrafficPolicy");
  spec.internal_traffic_policy = traffic_policy(*s, "internalTrafficPolicy");

  Endpoints endpoints;
  // One malformed slice must not take the Service (and its other slices) down.
  for (const json& slice : slices) try {
      add_slice(slice, spec.ports, endpoints, t.notes);
    } catch (const Malformed& m) {
      t.notes.push_back(m.problem + ": the slice is ignored");
    }
  for (auto& [ip, endpoint] : endpoints.by_ip) spec.endpoints.push_back(std::move(endpoint));
  // Served like the ClusterIP, as kube-proxy serves them: spec.externalIPs and the load
  // balancer's status.loadBalancer.ingress[].ip.
  spec.external_ips = external_ips_of(service);

  normalise_service(spec);
  if (std::string error = validate_service(spec); !error.empty())
    return skip(SkipReason::invalid, std::move(error));
  t.spec = std::move(spec);
  return t;
}

}  // namespace

const char* skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::headless:
      return "headless";
    case SkipReason::external_name:
      return "external_name";
    case SkipReason::proxy_name:
      return "proxy_name";
    case SkipReason::no_cluster_ip:
      return "no_cluster_ip";
    case SkipReason::ipv6:
      return "ipv6";
    case SkipReason::unsupported_protocol:
      return "unsupported_protocol";
    case SkipReason::too_many_ports:
      return "too_many_ports";
    case SkipReason::invalid:
      return "invalid";
  }
  return "invalid";
}

ServiceTranslation service_from(const json& service, const std::vector<json>& slices) {
  try {
    return translate(service, slices);
  } catch (const Malformed& m) {
    return skip(SkipReason::invalid, m.problem);
  } catch (const json::exception& e) {
    return skip(SkipReason::invalid, std::string("malformed object: ") + e.what());
  }
}

}  // namespace podvs::agent
