// What a Service must satisfy on this node beyond its own validity (validate_service): its
// ClusterIP, external IP ports and NodePorts used by no other Service, its ClusterIP and external
// IPs none of the node's own addresses (and the ClusterIP inside service_cidr when one is set),
// replacing it only by its owner, and the node's capacity. Keeps the index of who serves which
// frontend so that a check costs O(ports of the Service), not O(all Services).
//
// Thread safety: none. The control thread owns it, next to the Services it indexes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "base/net_types.h"
#include "control/api/control_plane.h"

namespace podvs {

// What of the node a Service depends on: whether it can serve Services at all, the size of the
// Maglev tables, and the addresses a ClusterIP must not take.
struct ServiceNode {
  std::string unavailable;         // "" or why this podvsd cannot serve Services
  uint32_t maglev_table_size = 0;  // a Service needs fewer endpoints than slots
  Ipv4 gateway_ip = 0;             // the pods' gateway
  Ipv4 host_ip = 0;                // the node on the host port...
  std::string host_port;           // ...whose name this is
  Ipv4 node_ip = 0;                // the underlay address; 0 without an overlay
  Ipv4Prefix pod_cidr;
  std::optional<Ipv4Prefix> cluster_cidr;
  // Set: the node routes it to podvs (service_cidr), and every ClusterIP must lie in it.
  std::optional<Ipv4Prefix> service_cidr;
};

class ServiceAdmission {
 public:
  static constexpr size_t kMaxServices = 10000;
  static constexpr size_t kMaxEndpoints = 100000;  // summed over all Services

  explicit ServiceAdmission(ServiceNode node) : node_(std::move(node)) {}

  // The Service normalised, or why it cannot be served here: invalid_argument (invalid, Services
  // unavailable, more endpoints than Maglev slots, or a ClusterIP of the node), already_exists (a
  // ClusterIP or NodePort of another Service), failed_precondition (it exists with another
  // owner) or resource_exhausted. `services` are those admitted so far (by service_key); replacing
  // one of them is judged without its old version. Changes nothing.
  Result<ServiceSpec> admit(const ServiceSpec& spec,
                            const std::map<std::string, ServiceSpec>& services) const;
  // Whether every admitted Service (`services`) keeps clear of `node`'s addresses: "" or the
  // sentence for the first one that does not. The pod CIDR can change only when this is "".
  static std::string conflict_with_node(const ServiceNode& node,
                                        const std::map<std::string, ServiceSpec>& services);
  // The node changed (its pod CIDR): later admissions are judged against `node`.
  void set_node(ServiceNode node) { node_ = std::move(node); }
  // Record that `spec` (admitted) replaced `old` (nullptr: a new Service), or that `old` is gone.
  void added(const ServiceSpec& spec, const ServiceSpec* old);
  void removed(const ServiceSpec& old);

  size_t endpoints() const { return endpoints_; }

 private:
  ServiceNode node_;
  // Who serves each frontend: (ClusterIP or external IP, protocol, port), and (0, protocol, node
  // port) for NodePorts (0.0.0.0 is never a ClusterIP).
  std::map<std::tuple<Ipv4, ServiceProto, uint16_t>, std::string> frontends_;
  std::map<Ipv4, std::string> cluster_ips_;  // whose ClusterIP each is
  size_t endpoints_ = 0;
};

}  // namespace podvs
