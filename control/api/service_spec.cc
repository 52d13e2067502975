#include "control/api/service_spec.h"

#include <map>
#include <utility>

#include "base/net_types.h"

namespace podvs {
namespace {

constexpr size_t kMaxLabelLength = 63;

constexpr Ipv4Prefix kLoopback{0x7f000000, 8};   // 127.0.0.0/8
constexpr Ipv4Prefix kMulticast{0xe0000000, 4};  // 224.0.0.0/4
constexpr Ipv4 kBroadcast = 0xffffffff;          // 255.255.255.255

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "" or why `text` (the value of `field`) is not an address a packet can be sent to.
std::string unicast_error(const std::string& field, const std::string& text) {
  const auto ip = parse_ipv4(text);
  if (!ip) return field + " '" + text + "' is not an IPv4 address such as 10.96.0.10";
  const std::string what = field + " " + text + " is ";
  if (*ip == 0) return what + "the unspecified address; use a unicast IPv4 address";
  if (*ip == kBroadcast) return what + "the broadcast address; use a unicast IPv4 address";
  if (kMulticast.contains(*ip)) return what + "a multicast address; use a unicast IPv4 address";
  if (kLoopback.contains(*ip)) return what + "a loopback address; use a unicast IPv4 address";
  return {};
}

std::string label_error(const std::string& field, const std::string& value) {
  if (is_dns_label(value)) return {};
  return field + " '" + value +
         "' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or '-', starting and "
         "ending with a letter or digit";
}

std::string port_label(const ServicePort& port, size_t index) {
  std::string label = "ports[" + std::to_string(index) + "]";
  if (!port.name.empty()) label += " (" + port.name + ")";
  return label;
}

std::string validate_ports(const ServiceSpec& spec) {
  if (spec.ports.empty()) return "it has no ports; give at least one";
  if (spec.ports.size() > kMaxPortsPerService)
    return "it has " + std::to_string(spec.ports.size()) + " ports; at most " +
           std::to_string(kMaxPortsPerService) + " are allowed";
  std::map<std::pair<ServiceProto, uint16_t>, size_t> ports, node_ports;
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    const ServicePort& p = spec.ports[i];
    const std::string label = "ports[" + std::to_string(i) + "]";
    if (!p.name.empty()) {
      if (auto error = label_error(label + " name", p.name); !error.empty()) return error;
      if (auto [it, added] = names.emplace(p.name, i); !added)
        return port_label(spec.ports[it->second], it->second) + " and " + label +
               " have the same name '" + p.name + "'; port names must be unique";
    }
    if (p.port == 0) return port_label(p, i) + " has port 0; a port is 1..65535";
    const std::string proto = service_proto_name(p.protocol);
    if (auto [it, added] = ports.emplace(std::pair{p.protocol, p.port}, i); !added)
      return port_label(spec.ports[it->second], it->second) + " and " + port_label(p, i) +
             " both serve " + proto + " port " + std::to_string(p.port);
    if (p.node_port == 0) continue;
    if (auto [it, added] = node_ports.emplace(std::pair{p.protocol, p.node_port}, i); !added)
      return port_label(spec.ports[it->second], it->second) + " and " + port_label(p, i) +
             " both use " + proto + " node_port " + std::to_string(p.node_port);
  }
  return {};
}

// An endpoint's ports as an EndpointSlice's: each names a Service port ("" the unnamed one) once.
std::string validate_endpoint_ports(const ServiceEndpoint& endpoint, const std::string& field) {
  if (endpoint.ports.size() > kMaxPortsPerService)
    return field + " (" + endpoint.ip + ") has " + std::to_string(endpoint.ports.size()) +
           " ports; at most " + std::to_string(kMaxPortsPerService) + " are allowed";
  std::map<std::string, size_t> names;
  for (size_t j = 0; j < endpoint.ports.size(); ++j) {
    const EndpointPort& p = endpoint.ports[j];
    const std::string label = field + ".ports[" + std::to_string(j) + "]";
    const std::string shown = p.name.empty() ? "the unnamed port" : "port '" + p.name + "'";
    if (!p.name.empty())
      if (auto error = label_error(label + " name", p.name); !error.empty()) return error;
    if (p.port == 0)
      return label + " (" + shown + " of " + endpoint.ip + ") is 0; a port is 1..65535";
    if (auto [it, added] = names.emplace(p.name, j); !added)
      return field + " (" + endpoint.ip + ") gives " + shown + " twice (ports[" +
             std::to_string(it->second) + "] and ports[" + std::to_string(j) +
             "]); name each port once";
  }
  return {};
}

std::string validate_endpoints(const ServiceSpec& spec) {
  if (spec.endpoints.size() > kMaxEndpointsPerService)
    return "it has " + std::to_string(spec.endpoints.size()) + " endpoints; at most " +
           std::to_string(kMaxEndpointsPerService) + " are allowed per service";
  std::map<Ipv4, size_t> seen;
  for (size_t i = 0; i < spec.endpoints.size(); ++i) {
    const std::string field = "endpoints[" + std::to_string(i) + "]";
    const std::string& ip = spec.endpoints[i].ip;
    if (auto error = unicast_error(field + " ip", ip); !error.empty()) return error;
    if (auto [it, added] = seen.emplace(*parse_ipv4(ip), i); !added)
      return "endpoints[" + std::to_string(it->second) + "] and " + field + " are both " + ip +
             "; list each endpoint once";
    if (auto error = validate_endpoint_ports(spec.endpoints[i], field); !error.empty())
      return error;
  }
  return {};
}

// Unicast, each once, not the ClusterIP: a packet to it must mean this Service and no other
// frontend of it.
std::string validate_external_ips(const ServiceSpec& spec) {
  if (spec.external_ips.size() > kMaxExternalIps)
    return "it has " + std::to_string(spec.external_ips.size()) + " external IPs; at most " +
           std::to_string(kMaxExternalIps) + " are allowed";
  std::map<Ipv4, size_t> seen;
  for (size_t i = 0; i < spec.external_ips.size(); ++i) {
    const std::string field = "external_ips[" + std::to_string(i) + "]";
    const std::string& ip = spec.external_ips[i];
    if (auto error = unicast_error(field, ip); !error.empty()) return error;
    if (parse_ipv4(ip) == parse_ipv4(spec.cluster_ip))
      return field + " " + ip +
             " is the service's own cluster_ip; an external IP is another address";
    if (auto [it, added] = seen.emplace(*parse_ipv4(ip), i); !added)
      return "external_ips[" + std::to_string(it->second) + "] and " + field + " are both " + ip +
             "; list each external IP once";
  }
  return {};
}

}  // namespace

std::string service_key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool is_dns_label(std::string_view text) {
  if (text.empty() || text.size() > kMaxLabelLength) return false;
  if (!alnum(text.front()) || !alnum(text.back())) return false;
  for (char c : text)
    if (!alnum(c) && c != '-') return false;
  return true;
}

const char* service_proto_name(ServiceProto protocol) {
  switch (protocol) {
    case ServiceProto::tcp:
      return "tcp";
    case ServiceProto::udp:
      return "udp";
  }
  return "unknown";
}

const char* traffic_policy_name(TrafficPolicy policy) {
  switch (policy) {
    case TrafficPolicy::cluster:
      return "cluster";
    case TrafficPolicy::local:
      return "local";
  }
  return "unknown";
}

std::string validate_service(const ServiceSpec& spec) {
  if (auto error = label_error("service namespace", spec.ns); !error.empty()) return error;
  if (auto error = label_error("service name", spec.name); !error.empty()) return error;
  std::string error = unicast_error("cluster_ip", spec.cluster_ip);
  if (error.empty()) error = validate_external_ips(spec);
  if (error.empty()) error = validate_ports(spec);
  if (error.empty()) error = validate_endpoints(spec);
  if (error.empty() &&
      (spec.affinity_timeout_s == 0 || spec.affinity_timeout_s > kMaxAffinityTimeoutS))
    error = "affinity_timeout_s " + std::to_string(spec.affinity_timeout_s) +
            " is out of range 1.." + std::to_string(kMaxAffinityTimeoutS) + " seconds";
  if (error.empty()) return {};
  return "service " + service_key(spec.ns, spec.name) + ": " + error;
}

uint16_t endpoint_target_port(const ServiceEndpoint& endpoint, const ServicePort& port) {
  for (const EndpointPort& p : endpoint.ports)
    if (p.name == port.name) return p.port;
  return port.target_port != 0 ? port.target_port : port.port;
}

void normalise_service(ServiceSpec& spec) {
  for (ServicePort& port : spec.ports)
    if (port.target_port == 0) port.target_port = port.port;
}

}  // namespace podvs
