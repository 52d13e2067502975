#include "control/cli/service_args.h"

#include <charconv>
#include <sstream>

#include "base/net_types.h"
#include "control/api/service_spec.h"

namespace podvs {
namespace {

constexpr const char* kPortSyntax = "expected [NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]]";
constexpr const char* kEndpointSyntax = "expected IP[:COND][@[NAME=]PORT,...]";
constexpr const char* kClientIp = "client-ip";

template <typename T>
Result<T> invalid(std::string message) {
  return Result<T>::fail(ErrorCode::invalid_argument, std::move(message));
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + 1)
    parts.push_back(text.substr(start, at - start));
  parts.push_back(text.substr(start));
  return parts;
}

std::optional<uint32_t> number(const std::string& text) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// After an endpoint's '@': [NAME=]PORT,... (no NAME: the unnamed Service port).
Result<std::vector<EndpointPort>> parse_endpoint_ports(const std::string& text,
                                                       const std::string& where) {
  std::vector<EndpointPort> ports;
  for (const std::string& item : split(text, ',')) {
    EndpointPort port;
    std::string number_text = item;
    if (const size_t eq = item.find('='); eq != std::string::npos) {
      port.name = item.substr(0, eq);
      if (port.name.empty())
        return invalid<std::vector<EndpointPort>>(
            where + "port '" + item + "' has an empty name before '='; " + kEndpointSyntax);
      number_text = item.substr(eq + 1);
    }
    const auto value = number(number_text);
    if (!value || *value == 0 || *value > UINT16_MAX)
      return invalid<std::vector<EndpointPort>>(where + "port '" + item + "': '" + number_text +
                                                "' is not a port number in 1..65535; " +
                                                kEndpointSyntax);
    port.port = static_cast<uint16_t>(*value);
    ports.push_back(port);
  }
  return Result<std::vector<EndpointPort>>::ok(std::move(ports));
}

}  // namespace

void add_service_options(CLI::App& app, ServiceArgs& args) {
  app.add_option("service", args.ref, "NS/NAME of the Service")->required();
  app.add_option("--cluster-ip", args.cluster_ip, "The Service's virtual IP")->required();
  app.add_option("--external-ip", args.external_ips,
                 "An external or load-balancer IP served like the ClusterIP (repeat the option "
                 "for more)")
      ->type_name("IP")
      ->allow_extra_args(false);
  app.add_option("--port", args.ports,
                 "[NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]] (TARGET defaults to PORT; repeat the "
                 "option for more ports)")
      ->required()
      ->allow_extra_args(false);  // one value per --port: what follows is the next argument
  app.add_option("--endpoint", args.endpoints,
                 "IP[:ready|terminating|terminating-not-serving|not-ready][@[NAME=]PORT,...]: "
                 "after '@' the endpoint's own port for each named Service port (repeat the "
                 "option for more endpoints)")
      ->allow_extra_args(false);
  app.add_option("--affinity", args.affinity,
                 "client-ip[:TIMEOUT_S]: a client keeps its endpoint (default 10800 s)");
  app.add_option("--external-traffic-policy", args.external_policy, "cluster or local")
      ->check(CLI::IsMember({"cluster", "local"}));
  app.add_option("--internal-traffic-policy", args.internal_policy, "cluster or local")
      ->check(CLI::IsMember({"cluster", "local"}));
  app.add_option("--owner", args.owner,
                 "Who manages the Service (\"\" an operator); only its owner may replace it");
}

Result<std::pair<std::string, std::string>> parse_service_ref(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() ||
      text.find('/', slash + 1) != std::string::npos)
    return invalid<std::pair<std::string, std::string>>("service '" + text +
                                                        "' is not NS/NAME, such as default/web");
  return Result<std::pair<std::string, std::string>>::ok(
      {text.substr(0, slash), text.substr(slash + 1)});
}

Result<ServicePort> parse_service_port(const std::string& text) {
  const std::string where = "--port '" + text + "': ";
  ServicePort port;
  std::string rest = text;
  if (const size_t eq = rest.find('='); eq != std::string::npos) {
    port.name = rest.substr(0, eq);
    if (port.name.empty())
      return invalid<ServicePort>(where + "the name before '=' is empty; " + kPortSyntax);
    rest = rest.substr(eq + 1);
  }
  const std::vector<std::string> parts = split(rest, ':');
  if (parts.size() < 2 || parts.size() > 4)
    return invalid<ServicePort>(where + "it has " + std::to_string(parts.size()) +
                                " ':'-separated parts; " + kPortSyntax);
  if (parts[0] == "tcp")
    port.protocol = ServiceProto::tcp;
  else if (parts[0] == "udp")
    port.protocol = ServiceProto::udp;
  else
    return invalid<ServicePort>(where + "protocol '" + parts[0] + "' is not tcp or udp");
  const char* names[] = {"", "PORT", "TARGET", "NODEPORT"};
  uint16_t* fields[] = {nullptr, &port.port, &port.target_port, &port.node_port};
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto value = number(parts[i]);
    if (!value || *value == 0 || *value > UINT16_MAX)
      return invalid<ServicePort>(where + names[i] + " '" + parts[i] +
                                  "' is not a port number in 1..65535");
    *fields[i] = static_cast<uint16_t>(*value);
  }
  return Result<ServicePort>::ok(port);
}

Result<ServiceEndpoint> parse_service_endpoint(const std::string& text) {
  const std::string where = "--endpoint '" + text + "': ";
  const size_t at = text.find('@');
  const std::string address = text.substr(0, at);
  std::vector<EndpointPort> ports;
  if (at != std::string::npos) {
    auto parsed = parse_endpoint_ports(text.substr(at + 1), where);
    if (!parsed.is_ok()) return invalid<ServiceEndpoint>(parsed.error.message);
    ports = std::move(*parsed.value);
  }
  const size_t colon = address.find(':');
  ServiceEndpoint endpoint;
  endpoint.ip = address.substr(0, colon);
  endpoint.ports = ports;
  if (!parse_ipv4(endpoint.ip))
    return invalid<ServiceEndpoint>(where + "'" + endpoint.ip + "' is not an IPv4 address");
  if (colon == std::string::npos) return Result<ServiceEndpoint>::ok(endpoint);
  const std::string condition = address.substr(colon + 1);
  const auto conditions = [&endpoint](bool ready, bool serving, bool terminating) {
    endpoint.ready = ready;
    endpoint.serving = serving;
    endpoint.terminating = terminating;
  };
  if (condition == "ready")
    conditions(true, true, false);
  else if (condition == "terminating")
    conditions(false, true, true);
  else if (condition == "terminating-not-serving")
    conditions(false, false, true);
  else if (condition == "not-ready")
    conditions(false, false, false);
  else
    return invalid<ServiceEndpoint>(where + "condition '" + condition +
                                    "' is not ready, terminating, terminating-not-serving or "
                                    "not-ready");
  return Result<ServiceEndpoint>::ok(endpoint);
}

std::string format_service_port(const ServicePort& port) {
  std::string text = port.name.empty() ? "" : port.name + "=";
  text += std::string(service_proto_name(port.protocol)) + ":" + std::to_string(port.port) + ":" +
          std::to_string(port.target_port);
  if (port.node_port != 0) text += ":" + std::to_string(port.node_port);
  return text;
}

Result<ServiceSpec> service_from_args(const ServiceArgs& args) {
  ServiceSpec spec;
  auto ref = parse_service_ref(args.ref);
  if (!ref.is_ok()) return invalid<ServiceSpec>(ref.error.message);
  spec.ns = ref.value->first;
  spec.name = ref.value->second;
  spec.cluster_ip = args.cluster_ip;
  spec.external_ips = args.external_ips;
  for (const std::string& text : args.ports) {
    auto port = parse_service_port(text);
    if (!port.is_ok()) return invalid<ServiceSpec>(port.error.message);
    spec.ports.push_back(*port.value);
  }
  for (const std::string& text : args.endpoints) {
    auto endpoint = parse_service_endpoint(text);
    if (!endpoint.is_ok()) return invalid<ServiceSpec>(endpoint.error.message);
    spec.endpoints.push_back(*endpoint.value);
  }
  if (!args.affinity.empty()) {
    const std::vector<std::string> parts = split(args.affinity, ':');
    std::optional<uint32_t> timeout = spec.affinity_timeout_s;
    if (parts.size() == 2) timeout = number(parts[1]);
    if (parts[0] != kClientIp || parts.size() > 2 || !timeout)
      return invalid<ServiceSpec>("--affinity '" + args.affinity +
                                  "': expected client-ip or client-ip:TIMEOUT_S (seconds, "
                                  "1..86400)");
    spec.client_ip_affinity = true;
    spec.affinity_timeout_s = *timeout;
  }
  spec.external_traffic_policy =
      args.external_policy == "local" ? TrafficPolicy::local : TrafficPolicy::cluster;
  spec.internal_traffic_policy =
      args.internal_policy == "local" ? TrafficPolicy::local : TrafficPolicy::cluster;
  spec.owner = args.owner;
  if (std::string error = validate_service(spec); !error.empty())
    return invalid<ServiceSpec>(error);
  return Result<ServiceSpec>::ok(std::move(spec));
}

Result<ServiceSpec> parse_service_line(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  ServiceArgs args;
  CLI::App app{"service add", "service add"};
  add_service_options(app, args);
  // CLI11 consumes a vector from its back.
  std::vector<std::string> reversed(words.rbegin(), words.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return invalid<ServiceSpec>(e.what());
  }
  return service_from_args(args);
}

}  // namespace podvs
