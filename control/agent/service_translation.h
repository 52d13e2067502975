// Pure translation of a Kubernetes Service and its EndpointSlices into podvsd's ServiceSpec, with
// kube-proxy's semantics, kept free of I/O so every rule is unit tested (and fuzzed) on its own:
// - which Services a proxy serves: not headless (clusterIP None), not ExternalName, not labelled
//   service.kubernetes.io/service-proxy-name (another proxy's), with an IPv4 ClusterIP;
// - ports by name: each Service port takes, from every IPv4 EndpointSlice of the Service, the
//   slice port of the same name (the EndpointSlice controller resolved a named targetPort per
//   pod there), so two pods may serve one Service port on different numbers;
// - endpoint conditions with the API's defaults for absent ones, duplicates across slices merged
//   by address (as kube-proxy dedups), session affinity, traffic policies, NodePorts.
// Malformed objects (wrong JSON types anywhere) give a reason, never an exception.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/agent/service_objects.h"
#include "control/api/control_plane.h"

namespace podvs::agent {

// spec.sessionAffinityConfig.clientIP.timeoutSeconds when absent (the API server's default).
inline constexpr uint32_t kDefaultAffinityTimeoutS = 10800;

// Why a Service is not programmed; the name is a metric label.
enum class SkipReason {
  headless,              // spec.clusterIP "None"
  external_name,         // spec.type ExternalName: a DNS alias, nothing to proxy
  proxy_name,            // labelled service.kubernetes.io/service-proxy-name: another proxy's
  no_cluster_ip,         // no spec.clusterIP
  ipv6,                  // only an IPv6 ClusterIP (podvs is IPv4 only)
  unsupported_protocol,  // every port is SCTP (or another protocol podvs does not switch)
  too_many_ports,        // more ports than podvsd takes (kMaxPortsPerService)
  invalid,               // a field of the wrong type or value, or podvsd's validation refuses it
};
const char* skip_reason_name(SkipReason reason);
inline constexpr SkipReason kAllSkipReasons[] = {
    SkipReason::headless,       SkipReason::external_name, SkipReason::proxy_name,
    SkipReason::no_cluster_ip,  SkipReason::ipv6,          SkipReason::unsupported_protocol,
    SkipReason::too_many_ports, SkipReason::invalid};

struct ServiceTranslation {
  std::optional<ServiceSpec> spec;          // normalised (normalise_service), owner left empty
  SkipReason reason = SkipReason::invalid;  // when !spec
  std::string problem;                      // when !spec: one sentence naming the field
  // Parts left out of a Service that is programmed (an SCTP port, an endpoint address that is
  // not IPv4, ...): one sentence each, for the log.
  std::vector<std::string> notes;
};

// `slices`: the EndpointSlices of this Service (same namespace, kubernetes.io/service-name
// label naming it); slices of another address type than IPv4 are ignored.
ServiceTranslation service_from(const nlohmann::json& service,
                                const std::vector<nlohmann::json>& slices);

}  // namespace podvs::agent
