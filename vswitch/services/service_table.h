// Kubernetes Services as the data path sees them: the frontends a Service answers on (ClusterIP:
// port/protocol, external IP:port/protocol, and node IP:NodePort/protocol), each with its endpoints
// and the Maglev table that picks one of them for a new connection.
//
// Concurrency: a ServiceIndex is immutable once published and reaches workers inside the
// ForwardingTable, so it is read under the same RCU as the rest of the table. The control thread
// builds each new index from the previous one (with_service / without_service: a copy of the slot
// array plus the change, so one Service update costs O(slots), never a Maglev rebuild of other
// Services). The frontends an index points at belong to the control thread's CompiledService
// objects, which it frees only after publishing an index without them and waiting out the grace
// period (ForwardingTableHandle::publish blocks until then). Workers only read.
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vswitch/conn_tuple.h"

namespace podvs {

// An endpoint of a Service port: where a connection to the frontend is sent.
struct ServiceBackend {
  rte_be32_t ip = 0;
  rte_be16_t port = 0;
  bool local = false;     // in this node's pod CIDR
  bool eligible = false;  // may take new connections through this frontend

  friend bool operator<(const ServiceBackend& a, const ServiceBackend& b) {
    return a.key() < b.key();
  }
  uint64_t key() const { return (uint64_t{rte_be_to_cpu_32(ip)} << 16) | rte_be_to_cpu_16(port); }
};

struct ServiceFrontend {
  // Shared by the ClusterIP, external IP and NodePort frontends of one Service port.
  uint32_t affinity_id = 0;
  bool node_port = false;  // reached on a node IP
  bool external = false;   // reached on an external IP (spec.externalIPs, load-balancer ingress)
  // Also translate the source to the node's host IP (NodePort and external IPs, policy Cluster).
  bool snat = false;
  bool affinity = false;  // ClientIP session affinity
  uint64_t affinity_timeout_tsc = 0;
  // Every endpoint, sorted by (ip, port): a connection stays on its endpoint while it is listed,
  // whatever its conditions.
  std::vector<ServiceBackend> backends;
  // Maglev lookup table over the eligible backends (indexes into `backends`); empty when none is
  // eligible, and the frontend rejects new connections.
  std::vector<uint16_t> maglev;

  // The listed backend with this address, or nullptr.
  const ServiceBackend* find(rte_be32_t ip, rte_be16_t port) const;
};

// One Service in data-path form (addresses in network order, ports in host order).
struct ServiceDef {
  struct Port {
    uint8_t proto = 0;  // IPPROTO_TCP or IPPROTO_UDP
    uint16_t port = 0;
    uint16_t target_port = 0;
    uint16_t node_port = 0;  // 0: none
  };
  struct Endpoint {
    rte_be32_t ip = 0;
    bool ready = true;
    bool serving = true;
    bool terminating = false;
    // This endpoint's port for each of `ports`, in their order (a named targetPort resolves per
    // pod); empty: every port's target_port.
    std::vector<uint16_t> target_ports{};
  };
  rte_be32_t cluster_ip = 0;
  std::vector<rte_be32_t> external_ips;  // served on `ports` like the ClusterIP
  std::vector<Port> ports;
  std::vector<Endpoint> endpoints;
  bool client_ip_affinity = false;
  uint32_t affinity_timeout_s = 10800;
  bool external_local = false;  // externalTrafficPolicy: Local
  bool internal_local = false;  // internalTrafficPolicy: Local
};

struct ServiceCompileParams {
  rte_be32_t pod_net = 0, pod_mask = 0;  // this node's pod CIDR: which endpoints are local
  uint32_t maglev_size = 0;              // prime
  uint64_t tsc_hz = 0;
};

// Frontends of one Service, owned by the control thread (see the concurrency note above).
class CompiledService {
 public:
  // `previous` (the same Service's current form, or nullptr) lends its affinity ids to the ports
  // that stay, so affinity survives an endpoint update; new ports take ids from `next_id`.
  CompiledService(const ServiceDef& def, const ServiceCompileParams& params,
                  const CompiledService* previous, uint32_t& next_id);

  struct Entry {
    rte_be32_t ip;  // the ClusterIP or an external IP; 0 for a NodePort (any node IP)
    rte_be16_t port;
    uint8_t proto;
    std::unique_ptr<ServiceFrontend> frontend;
  };
  rte_be32_t cluster_ip() const { return cluster_ip_; }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  rte_be32_t cluster_ip_;
  std::vector<Entry> entries_;
};

// The published lookup structure: (address, port, protocol) → frontend, plus which addresses are
// ClusterIPs at all (traffic to one on a port it does not serve is rejected, not routed).
class ServiceIndex {
 public:
  ServiceIndex() : slots_(kMinSlots), mask_(kMinSlots - 1) {}

  // The frontend for a packet to dst:port/proto; node IPs match NodePort frontends.
  const ServiceFrontend* find(rte_be32_t dst, rte_be16_t port, uint8_t proto) const {
    return find_key(dst, port, proto);
  }
  const ServiceFrontend* find_node_port(rte_be16_t port, uint8_t proto) const {
    return find_key(0, port, proto);
  }
  bool is_cluster_ip(rte_be32_t dst) const { return find_slot(dst, 0, 0) != nullptr; }
  bool has_node_ports() const { return node_ports_ != 0; }
  bool has_external_ips() const { return external_ports_ != 0; }
  size_t frontends() const { return used_ - cluster_ips_; }

  // Copies of this index with `service`'s frontends added (after removing `replaced`'s, when it
  // is not null), or with `service`'s removed.
  std::shared_ptr<const ServiceIndex> with_service(const CompiledService& service,
                                                   const CompiledService* replaced) const;
  std::shared_ptr<const ServiceIndex> without_service(const CompiledService& service) const;

 private:
  static constexpr uint32_t kMinSlots = 64;
  struct Slot {
    rte_be32_t ip = 0;
    rte_be16_t port = 0;
    uint8_t proto = 0;
    bool used = false;
    const ServiceFrontend* frontend = nullptr;  // null in a ClusterIP's marker slot
  };
  static uint32_t hash(rte_be32_t ip, rte_be16_t port, uint8_t proto);
  const Slot* find_slot(rte_be32_t ip, rte_be16_t port, uint8_t proto) const;
  const ServiceFrontend* find_key(rte_be32_t ip, rte_be16_t port, uint8_t proto) const {
    const Slot* s = find_slot(ip, port, proto);
    return s != nullptr ? s->frontend : nullptr;
  }
  void insert(const Slot& slot);
  void erase(rte_be32_t ip, rte_be16_t port, uint8_t proto);
  void add(const CompiledService& service);
  void remove(const CompiledService& service);
  void resize_for(size_t used);

  std::vector<Slot> slots_;  // linear probing, at most half full
  uint32_t mask_;
  size_t used_ = 0;
  size_t cluster_ips_ = 0;
  size_t node_ports_ = 0;
  size_t external_ports_ = 0;  // external IP frontends (address, port, protocol)
};

}  // namespace podvs
