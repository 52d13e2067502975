// The rules a ServiceSpec (control/api/control_plane.h) must follow before podvsd programs it,
// shared by the switch (which enforces them), podvsctl (which checks a whole file before sending
// any of it) and the service store. Pure functions: no switch state, so conflicts between services
// and with the node's own addresses are the switch's to check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/api/control_plane.h"

namespace podvs {

// Endpoints of one Service. Kubernetes splits large ones over EndpointSlices of 100 each; 4096
// backends is far beyond any real Service and bounds the work of compiling one (Maglev table).
constexpr size_t kMaxEndpointsPerService = 4096;
// Kubernetes itself allows any number; 100 covers every real Service and bounds a request.
constexpr size_t kMaxPortsPerService = 100;
// externalIPs plus load-balancer ingress IPs of one Service: real Services have one or two; the
// bound keeps a request's frontends (addresses times ports) small.
constexpr size_t kMaxExternalIps = 16;
// Kubernetes' limit for sessionAffinityConfig.clientIP.timeoutSeconds (one day).
constexpr uint32_t kMaxAffinityTimeoutS = 86400;

// "ns/name": how a Service is named in messages, listings and the switch's maps.
std::string service_key(const std::string& ns, const std::string& name);

// 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit.
bool is_dns_label(std::string_view text);

// "tcp"/"udp" and "cluster"/"local": the one spelling of each everywhere text meets it (CLI, JSON,
// state files).
const char* service_proto_name(ServiceProto protocol);
const char* traffic_policy_name(TrafficPolicy policy);

// "" when `spec` is valid, else one sentence naming the service, the field and the value. A
// target_port of 0 is valid (it means: the same as port).
std::string validate_service(const ServiceSpec& spec);

// The port `endpoint` serves `port` on: its own port of that name (EndpointSlice semantics, the
// unnamed port matching ""), else the Service port's target_port (normalised: 0 means port).
uint16_t endpoint_target_port(const ServiceEndpoint& endpoint, const ServicePort& port);

// Fills what a request may leave out: target_port 0 becomes port. The order of ports and endpoints
// is the user's and is kept.
void normalise_service(ServiceSpec& spec);

}  // namespace podvs
