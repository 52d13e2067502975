// What podvs-agent reads of Service and EndpointSlice objects besides their translation
// (service_translation.h): the Service a slice belongs to, when its change happened, a Service's
// external addresses, and the slim copies the controller keeps. Pure functions of the JSON.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace podvs::agent {

inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kServiceProxyNameLabel = "service.kubernetes.io/service-proxy-name";
inline constexpr const char* kLastChangeTriggerTime =
    "endpoints.kubernetes.io/last-change-trigger-time";

// Only what service_from reads of a Service or an EndpointSlice (fields of the wrong type kept
// as they are, so the translation still names them): the controller keeps every object of the
// cluster, and managedFields, targetRefs, hints and the like are most of their size.
nlohmann::json slim_service(const nlohmann::json& service);
nlohmann::json slim_slice(const nlohmann::json& slice);

// "namespace/name" of the Service an EndpointSlice belongs to (its namespace and its
// kubernetes.io/service-name label), or "" when it names none.
std::string slice_service_key(const nlohmann::json& slice);

// The slice's endpoints.kubernetes.io/last-change-trigger-time: when the change it carries
// happened (the start of kube-proxy's network programming latency), or nullopt.
std::optional<std::chrono::system_clock::time_point> slice_trigger_time(
    const nlohmann::json& slice);

// An RFC 3339 time ("2026-01-02T03:04:05Z", fractions and +hh:mm offsets too), or nullopt.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

// The IPv4 addresses a Service is also served on besides its ClusterIP, as kube-proxy serves
// them: spec.externalIPs and status.loadBalancer.ingress[].ip.
std::vector<std::string> external_ips_of(const nlohmann::json& service);

}  // namespace podvs::agent
