// The forwarding state workers read: per-port facts (who may send from it, how to transmit to
// it) and the routes from pod addresses to ports.
//
// Concurrency: a ForwardingTable is immutable once published. The control thread is the only
// writer: it builds a complete new table, publishes it with a release store through
// ForwardingTableHandle, waits for an RCU grace period (rcu_wait_grace_period: every worker
// has passed a quiescent state, i.e. finished the burst that may have used the old table) and only
// then deletes the old one. Workers load the pointer once per poll-loop iteration, never lock, and
// report a quiescent state at the end of each iteration. Each table carries a version so a worker
// knows when to invalidate its flow cache.
#pragma once

#include <rte_ether.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/net_types.h"
#include "offload/output_offload.h"
#include "overlay/vxlan_header.h"
#include "ports/port_id.h"
#include "ports/port_io.h"
#include "vswitch/services/service_table.h"

namespace podvs {

inline constexpr uint16_t kNoRemote = UINT16_MAX;

struct PortEntry {
  bool in_use = false;
  bool is_host = false;       // the node's own stack: may send from any address
  bool check_source = false;  // anti-spoofing: frames must come from `mac` and `ip`
  rte_ether_addr mac{};       // the pod's (or host interface's) MAC: destination when sending to it
  rte_be32_t ip = 0;          // the pod's address, network order
  PortIo io;                  // how to transmit to it, and what offloads it finishes itself
};

// The stage a packet goes to once its flow is decided, as a VPP node declares its next nodes.
// The route lookup gives the first four; the Service stage (services/service_lb.h) turns a
// flow's route into one of the last two.
enum class NextStage : uint8_t {
  no_route,     // nothing owns the destination: dropped as no_route
  local,        // a pod or the host port (out_port): TTL, MAC rewrite, transmit (deliver.h)
  remote_node,  // another node's pod CIDR: VXLAN to `remote`, out the uplink (deliver.h)
  masquerade,   // leaving the cluster: SNAT to the node IP, out the uplink (nat/masquerade.h)
  service,      // to a Service frontend: balance and DNAT (services/service_lb.h)
  tracked,      // of a connection a Service translates: conntrack NAT (services/service_lb.h)
};

// What the route lookup (and the flow cache) decides for a packet: the next stage, the output
// port and the L2 destination to write.
struct ForwardAction {
  PortId out_port = kNoPort;    // local, remote_node and masquerade: the port to transmit on
  uint16_t remote = kNoRemote;  // remote_node: the index of the node in OverlayState::nodes
  rte_ether_addr dst_mac{};
  NextStage next = NextStage::no_route;
};

// A node that owns another pod CIDR of the cluster, reached through VXLAN over the uplink.
struct RemoteNode {
  Ipv4Prefix pod_cidr;
  rte_ether_addr vtep_mac{};  // the inner destination MAC its VTEP accepts
  bool resolved = false;      // the underlay next hop's MAC is known: `outer` is complete
  VxlanOuterTemplate outer{};
};

// The overlay as workers see it; absent (uplink_port == kNoPort) when no uplink is configured.
struct OverlayState {
  PortId uplink_port = kNoPort;
  rte_ether_addr vtep_mac{};  // ours: inner source MAC, and the inner destination we accept
  rte_be32_t node_ip = 0;     // our underlay address (network order)
  VxlanParams vxlan;
  uint16_t max_inner_ip_len = 0;  // uplink MTU minus the VXLAN overhead
  // The cluster's pod network (network order); mask 0: unknown. Addresses in it that no node owns
  // have no route, rather than leaving through the host port.
  rte_be32_t cluster_net = 0, cluster_mask = 0;
  // Masquerade: pods' traffic to outside the cluster leaves the uplink via the underlay gateway
  // with the node IP as source, except to these networks (network order: network, mask). The
  // gateway also takes the answers to NodePort clients outside the cluster.
  bool masquerade = false;
  bool gateway_resolved = false;
  rte_ether_addr gateway_mac{};
  std::vector<std::pair<rte_be32_t, rte_be32_t>> no_masquerade;
  std::vector<RemoteNode> nodes;
};

struct ForwardingConfig {
  Ipv4Prefix pod_cidr;
  Ipv4 host_ip = 0;     // the node's address on the host port
  Ipv4 gateway_ip = 0;  // the pods' next hop, answered by the ARP responder
  MacAddr gateway_mac;
};

class ForwardingTable {
 public:
  struct PodRoute {
    Ipv4 ip;
    PortId port;
  };

  // `ports` is indexed by PortId; its size is the port capacity.
  ForwardingTable(uint64_t version, const ForwardingConfig& config, std::vector<PortEntry> ports,
                  PortId host_port, const std::vector<PodRoute>& pod_routes);

  uint64_t version() const { return version_; }
  const PortEntry& port(PortId id) const { return ports_[id]; }
  PortId host_port() const { return host_port_; }
  const rte_ether_addr& gateway_mac() const { return gateway_mac_; }
  rte_be32_t gateway_ip() const { return gateway_ip_; }
  rte_be32_t host_ip() const { return host_ip_; }
  bool in_pod_cidr(rte_be32_t ip) const { return (ip & cidr_mask_) == cidr_net_; }

  // Local pod → its port; in the pod CIDR but unknown → no route; a remote node's pod CIDR →
  // VXLAN to it; outside the cluster with masquerade on → masquerade; the node's own address and
  // everything else → the host port, unless the packet came from it.
  ForwardAction route(rte_be32_t dst, PortId in_port) const;

  // Called by the control thread before publishing; longest prefix wins among remote nodes.
  void set_overlay(OverlayState overlay);
  const OverlayState& overlay() const { return overlay_; }
  PortId uplink_port() const { return overlay_.uplink_port; }
  const RemoteNode& remote(uint16_t index) const { return overlay_.nodes[index]; }

  // Services (never null: an empty index when there are none). Shared between successive tables;
  // the control thread keeps what the frontends point at alive (see service_table.h).
  void set_services(std::shared_ptr<const ServiceIndex> services) {
    services_ = std::move(services);
  }
  const ServiceIndex& services() const { return *services_; }
  // This node's own addresses, where NodePorts are served.
  bool is_node_ip(rte_be32_t ip) const {
    return ip == host_ip_ || (overlay_.uplink_port != kNoPort && ip == overlay_.node_ip);
  }

 private:
  struct Slot {
    rte_be32_t ip;  // 0 = empty: 0.0.0.0 is never a pod address
    PortId port;
  };
  PortId find_pod_port(rte_be32_t ip) const;
  uint16_t find_remote(rte_be32_t ip) const;
  bool no_masquerade(rte_be32_t ip) const;

  uint64_t version_;
  std::vector<PortEntry> ports_;
  PortId host_port_;
  rte_ether_addr gateway_mac_;
  rte_be32_t gateway_ip_, host_ip_, cidr_net_, cidr_mask_;
  std::vector<Slot> slots_;  // open addressing, linear probing, power-of-two size
  uint32_t slot_mask_;
  OverlayState overlay_;
  std::shared_ptr<const ServiceIndex> services_ = std::make_shared<ServiceIndex>();
  // Remote pod CIDRs by prefix length, longest first: network (network order) → node index.
  std::vector<std::pair<rte_be32_t, std::unordered_map<rte_be32_t, uint16_t>>> remote_by_mask_;
};

// Owner of the published table. Writer: the control thread only. Readers: workers via current().
class ForwardingTableHandle {
 public:
  explicit ForwardingTableHandle(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}
  ~ForwardingTableHandle() { delete current_.load(std::memory_order_relaxed); }

  const ForwardingTable* current() const { return current_.load(std::memory_order_acquire); }
  // Publishes `next` and frees the previous table after a grace period (blocks until then).
  void publish(std::unique_ptr<ForwardingTable> next);

 private:
  rte_rcu_qsbr* qsbr_;
  std::atomic<const ForwardingTable*> current_{nullptr};
};

rte_ether_addr to_rte(const MacAddr& mac);

}  // namespace podvs
