// The operations podvsd offers to its API front-ends (the gRPC server today). The daemon's control
// thread implements them; front-ends only translate. Plain C++ types keep the daemon core free of
// protobuf and let front-ends be tested without a running switch.
//
// Thread safety: every method may be called concurrently from any thread; the implementation
// serialises them onto the control thread, the only writer of switch state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podvs {

// A failed call carries a sentence a person can act on; `code` says which gRPC status fits.
// failed_precondition: the request is well formed but the node's state forbids it now (changing
// the pod CIDR while pods hold addresses from it, replacing what another owner manages).
enum class ErrorCode {
  invalid_argument,
  not_found,
  already_exists,
  resource_exhausted,
  failed_precondition,
  internal
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
};

template <typename T>
struct Result {
  std::optional<T> value;
  Error error;  // meaningful only when !value

  static Result ok(T v) { return Result{std::move(v), {}}; }
  static Result fail(ErrorCode code, std::string message) {
    return Result{std::nullopt, Error{code, std::move(message)}};
  }
  bool is_ok() const { return value.has_value(); }
};

struct Empty {};

enum class PortKind { tap, vhost_user, host, uplink };

// The one spelling of a kind everywhere text meets it (CLI, JSON, state file): "tap",
// "vhost-user", "host", "uplink".
constexpr const char* port_kind_name(PortKind kind) {
  switch (kind) {
    case PortKind::tap:
      return "tap";
    case PortKind::vhost_user:
      return "vhost-user";
    case PortKind::host:
      return "host";
    case PortKind::uplink:
      return "uplink";
  }
  return "unknown";
}

struct PodSpec {
  std::string id;     // opaque, unique per pod (CNI: the container id)
  std::string netns;  // path of the pod's network namespace (tap pods)
  std::string ifname = "eth0";
  PortKind kind = PortKind::tap;
  bool vhost_server = false;  // vhost-user: podvsd listens instead of connecting
  std::string k8s_namespace;
  std::string k8s_name;
  // Who manages the pod: "" for an operator (podvsctl), "cni:<network name>" for podvs-cni, whose
  // GC only ever deletes the pods it owns.
  std::string owner;
  // vhost-user: the queue pairs the pod may enable (1..kMaxPodQueues). A kernel pod asks for
  // none (1): its tap gets one queue per worker, which PodInfo reports here.
  uint16_t queues = 1;
};

// A DPDK pod's queue pairs at most: more than the 16 workers podvs is built to scale to buys
// nothing (each queue is polled by one worker), and each costs rte_vhost two virtqueues.
inline constexpr uint16_t kMaxPodQueues = 16;

// "" when a pod of `kind` may have `queues` queue pairs, else the sentence saying why not.
inline std::string validate_pod_queues(PortKind kind, uint64_t queues) {
  if (queues < 1 || queues > kMaxPodQueues)
    return "queues " + std::to_string(queues) + " is out of range: a pod has 1 to " +
           std::to_string(kMaxPodQueues) + " queue pairs";
  if (queues > 1 && kind != PortKind::vhost_user)
    return "queues " + std::to_string(queues) +
           ": only a vhost-user (DPDK) pod asks for queue pairs; a kernel pod's tap gets one "
           "queue per worker from podvsd";
  return {};
}

struct PodInfo {
  PodSpec spec;
  std::string ip;          // dotted quad, the pod's /32
  std::string mac;         // aa:bb:cc:dd:ee:ff
  std::string gateway_ip;  // 169.254.1.1
  uint32_t mtu = 0;
  std::string port_name;    // DPDK port name
  int port_id = -1;         // DPDK port id, -1 while the port is not up
  std::string socket_path;  // vhost-user only
  std::string status;       // "up" or a sentence saying what is wrong
};

struct DropCount {
  std::string reason;
  uint64_t packets = 0;
};

struct PortStats {
  std::string name;
  int port_id = -1;
  PortKind kind = PortKind::tap;
  std::string pod_id;  // empty for the host port
  std::string link;    // "up"/"down" as DPDK reports it
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  int worker = -1;               // worker that polls its (first) rx queue
  std::vector<DropCount> drops;  // non-zero reasons only
  std::vector<int> queue_workers;  // by rx queue: the worker polling it, -1 for none
};

struct WorkerStats {
  int worker = 0;
  unsigned lcore = 0;
  unsigned cpu = 0;
  uint64_t rx_packets = 0, tx_packets = 0;
  uint64_t busy_cycles = 0, idle_cycles = 0;
  double cycles_per_packet = 0;  // busy cycles / packets received
  uint32_t rx_queues = 0;
  uint64_t flow_cache_hits = 0, flow_cache_misses = 0;
  uint64_t rx_bursts = 0;  // non-empty rx bursts: rx_packets / rx_bursts = packets per burst
  // Connection tracking (masquerade and Services), since start: live entries, entries created,
  // entries removed by aging.
  uint64_t conntrack_entries = 0, conntrack_created = 0, conntrack_expired = 0;
  // Service connections whose ClientIP affinity could not be remembered (the table was full).
  uint64_t affinity_full = 0;
};

struct SwitchStats {
  std::vector<WorkerStats> workers;
  std::vector<PortStats> ports;
  std::vector<DropCount> drops;  // summed over ports, non-zero reasons only
  uint64_t mbufs_total = 0, mbufs_in_use = 0;
  uint64_t tsc_hz = 0;
};

// What a controller beside podvsd (podvs-agent) says about itself with ReportAgent, periodically;
// podvsd keeps the last report of each name in memory only (a restarted podvsd knows no agent until
// it reports again).
struct AgentReport {
  std::string name;     // the controller's owner name (e.g. "podvs-agent"): a DNS-1123 label
  std::string version;  // at most 64 characters
  int64_t pid = 0;
  bool synced = false;           // its informers have listed everything at least once
  int64_t last_sync_unix_s = 0;  // when it last finished a full sync (relist/reconcile); 0: never
  uint32_t services = 0;         // Services it programs now
  uint32_t nodes = 0;            // remote nodes it programs now
};

struct AgentSeen {
  AgentReport report;
  double report_age_s = 0;  // since podvsd received the last report
};

// What a client needs to know about the node before asking for anything (CNI STATUS).
struct NodeStatus {
  std::string version;
  std::string pod_cidr;
  std::string gateway_ip;
  std::string host_ip;  // the node's address on the host port
  uint32_t mtu = 0;
  uint64_t addresses_total = 0, addresses_used = 0;
  uint32_t ports_used = 0, ports_max = 0;  // podvs's ports: each pod, the host port, the uplink
  uint32_t workers = 0;
  std::string node_ip, vtep_mac;  // the overlay: empty without an uplink
  uint32_t vxlan_port = 0, vni = 0, uplink_mtu = 0;
  std::string uplink, uplink_offload;
  // Random per start of podvsd: a controller that sees it change knows podvsd restarted (and may
  // have lost what was programmed after its last save), and reconciles.
  uint64_t instance_id = 0;
  std::vector<AgentSeen> agents;  // the controllers that reported (ReportAgent), by name
  // Pods attached and the most this node takes: max_pods, or fewer when the pod CIDR has fewer
  // usable addresses; pods_bound names which ("max_pods" or "pod_cidr").
  uint64_t pods = 0, pods_max = 0;
  std::string pods_bound;
  // Gratuitous ARPs for node_ip sent out of the uplink: one each time its link came up.
  uint64_t uplink_announcements = 0;
};

// A remote node of the overlay. The last three fields are podvsd's answer, ignored in requests.
struct RemoteNodeSpec {
  std::string name;
  std::string pod_cidr;
  std::string node_ip;
  std::string vtep_mac;
  // Who manages the node (or, on ServiceSpec, the Service): "" for an operator (podvsctl), else a
  // name its controller chose (podvs-agent's). Only a request with the same owner may replace or
  // (when it names an owner) delete it, so a controller reconciles what it owns and never silently
  // takes over what someone else added.
  std::string owner;
  std::string next_hop, next_hop_mac, neighbour_state;
};

// One packet from a worker's drop flight recorder.
struct RecentDrop {
  int64_t time_unix_ns = 0;
  int worker = 0;
  std::string port;    // port name
  std::string pod_id;  // empty for the host port or a port since removed
  std::string reason;
  uint32_t length = 0;
  std::string headers;  // the frame's first bytes, raw
};

// A Kubernetes Service as podvsd serves it: a virtual IP (ClusterIP) and ports in front of a list
// of endpoints (EndpointSlice addresses with their conditions), as kube-proxy would program it.
// control/api/service_spec.h says which values are valid.
enum class ServiceProto : uint8_t { tcp, udp };
// externalTrafficPolicy/internalTrafficPolicy: local sends only to endpoints on this node.
enum class TrafficPolicy : uint8_t { cluster, local };

struct ServicePort {
  std::string name;  // optional, for people
  ServiceProto protocol = ServiceProto::tcp;
  uint16_t port = 0;  // on the ClusterIP, 1..65535
  // On an endpoint that lists no port of this name, 1..65535 (0 in a request: = port).
  uint16_t target_port = 0;
  uint16_t node_port = 0;  // 0: none; else served on every node IP
};

// One port of an endpoint, as an EndpointSlice lists it: the number this endpoint serves the
// Service port of the same name on. A named targetPort resolves per pod, so two endpoints of one
// Service port may listen on different numbers.
struct EndpointPort {
  std::string name;   // a ServicePort's name ("" matches the unnamed port)
  uint16_t port = 0;  // 1..65535
};

struct ServiceEndpoint {  // EndpointSlice conditions
  std::string ip;         // dotted quad
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  // Matched to the ServicePorts by name; a ServicePort no entry names uses its target_port here.
  std::vector<EndpointPort> ports{};
};

struct ServiceSpec {
  std::string ns;          // Kubernetes namespace (DNS-1123 label)
  std::string name;        // DNS-1123 label
  std::string cluster_ip;  // dotted quad
  // spec.externalIPs and status.loadBalancer.ingress[].ip: served on the same ports as the
  // ClusterIP, with the external traffic policy (as NodePorts are).
  std::vector<std::string> external_ips{};
  std::vector<ServicePort> ports;
  std::vector<ServiceEndpoint> endpoints;
  bool client_ip_affinity = false;
  uint32_t affinity_timeout_s = 10800;  // 1..86400
  TrafficPolicy external_traffic_policy = TrafficPolicy::cluster;
  TrafficPolicy internal_traffic_policy = TrafficPolicy::cluster;
  std::string owner;  // as RemoteNodeSpec::owner
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;
  virtual Result<PodInfo> add_pod(const PodSpec& spec) = 0;
  // Deleting an unknown pod is not an error (CNI DEL must be idempotent): it returns ok.
  virtual Result<Empty> del_pod(const std::string& id) = 0;
  virtual Result<PodInfo> get_pod(const std::string& id) = 0;
  virtual Result<std::vector<PodInfo>> list_pods() = 0;
  virtual Result<std::vector<PortStats>> list_ports() = 0;
  virtual Result<SwitchStats> stats() = 0;
  virtual Result<Empty> clear_stats() = 0;
  virtual Result<NodeStatus> status() = 0;
  // The most recent drops of every worker, oldest first.
  virtual Result<std::vector<RecentDrop>> recent_drops() = 0;
  // Replaces the node's pod CIDR (the one it started with, or the last one set) while no pod
  // exists: IPAM, the host port's address and route, the forwarding table and the saved state
  // follow. The same CIDR again is a no-op. invalid_argument for a CIDR the configuration cannot
  // take; failed_precondition while pods exist, or when a Service's ClusterIP or a remote node's
  // pod CIDR would fall inside it. Returns the status with the new CIDR.
  virtual Result<NodeStatus> set_pod_cidr(const std::string& pod_cidr) = 0;
  // Remote nodes of the overlay (invalid_argument when no uplink is configured). Adding a node
  // whose name exists with another owner is failed_precondition.
  virtual Result<RemoteNodeSpec> add_node(const RemoteNodeSpec& node) = 0;
  // With an owner, a node that exists with another owner is not deleted (failed_precondition).
  virtual Result<Empty> del_node(const std::string& name,
                                 const std::optional<std::string>& owner) = 0;
  // With an owner, only that owner's nodes.
  virtual Result<std::vector<RemoteNodeSpec>> list_nodes(
      const std::optional<std::string>& owner) = 0;
  // Kubernetes Services. Adding one whose ns/name exists replaces it (failed_precondition when it
  // exists with another owner); the result is the Service normalised (normalise_service in
  // control/api/service_spec.h).
  virtual Result<ServiceSpec> add_service(const ServiceSpec& spec) = 0;
  // add_service for each of `specs`, in order, each with its own result; the whole call fails
  // only when podvsd cannot take requests at all (shutting down). The data path is published once
  // for the batch.
  virtual Result<std::vector<Result<ServiceSpec>>> add_services(
      const std::vector<ServiceSpec>& specs) = 0;
  // Deleting an unknown Service is not an error: it returns ok. With an owner, a Service that
  // exists with another owner is not deleted (failed_precondition).
  virtual Result<Empty> del_service(const std::string& ns, const std::string& name,
                                    const std::optional<std::string>& owner) = 0;
  // Sorted by ns/name; with an owner, only that owner's Services.
  virtual Result<std::vector<ServiceSpec>> list_services(
      const std::optional<std::string>& owner) = 0;
  // A controller's report about itself (AgentReport): kept in memory with the time it arrived and
  // shown in status(); returns podvsd's instance_id. invalid_argument for a bad name or version,
  // resource_exhausted beyond 16 names.
  virtual Result<uint64_t> report_agent(const AgentReport& report) = 0;
};

}  // namespace podvs
