// The switch's control thread: owner of every table, port and pod, and the only writer of switch
// state. API threads reach it through ControlQueue (see control_queue.h); workers read what it
// publishes through ForwardingTableHandle (RCU). Implements the ControlPlane API.
#pragma once

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/api/control_plane.h"
#include "control/daemon/agent_registry.h"
#include "control/daemon/config.h"
#include "control/daemon/control_queue.h"
#include "control/daemon/ipam.h"
#include "control/daemon/pod_interface.h"
#include "control/daemon/port_manager.h"
#include "control/daemon/service_admission.h"
#include "control/daemon/service_store.h"
#include "control/daemon/state_store.h"
#include "overlay/neighbour_table.h"
#include "pmd/worker.h"
#include "vswitch/forwarding_table.h"

namespace podvs {

class SwitchController : public ControlPlane {
 public:
  // The EAL must be initialised. Does not start anything yet.
  explicit SwitchController(const Config& config);
  ~SwitchController() override;

  // Creates the mbuf pool, launches the workers, creates the host port and re-creates every pod
  // of the saved state. Throws with a precise reason on failure.
  void start();
  // Runs the control loop on the calling thread until `stop` becomes true.
  void run(const std::atomic<bool>& stop);
  // API calls from now on fail at once with "shutting down" instead of waiting for run().
  void stop_accepting() { queue_.drain_and_close(); }
  // Stops workers and removes every port; the saved state stays, so a restart re-creates pods.
  void shutdown();
  // The pod CIDR in use: the saved one when there is one (see start), else the configured one.
  // Read it on the control thread, or before run() (SetPodCidr changes it there).
  const Ipv4Prefix& pod_cidr() const { return config_.pod_cidr; }

  Result<PodInfo> add_pod(const PodSpec& spec) override;
  Result<Empty> del_pod(const std::string& id) override;
  Result<PodInfo> get_pod(const std::string& id) override;
  Result<std::vector<PodInfo>> list_pods() override;
  Result<std::vector<PortStats>> list_ports() override;
  Result<SwitchStats> stats() override;
  Result<Empty> clear_stats() override;
  Result<NodeStatus> status() override;
  Result<std::vector<RecentDrop>> recent_drops() override;
  Result<RemoteNodeSpec> add_node(const RemoteNodeSpec& node) override;
  Result<NodeStatus> set_pod_cidr(const std::string& pod_cidr) override;
  Result<Empty> del_node(const std::string& name, const std::optional<std::string>& owner) override;
  Result<std::vector<RemoteNodeSpec>> list_nodes(const std::optional<std::string>& owner) override;
  Result<ServiceSpec> add_service(const ServiceSpec& spec) override;
  Result<std::vector<Result<ServiceSpec>>> add_services(
      const std::vector<ServiceSpec>& specs) override;
  Result<Empty> del_service(const std::string& ns, const std::string& name,
                            const std::optional<std::string>& owner) override;
  Result<std::vector<ServiceSpec>> list_services(const std::optional<std::string>& owner) override;
  Result<uint64_t> report_agent(const AgentReport& report) override;

 private:
  struct Pod {
    PodRecord record;
    std::optional<PortHandle> port;
    std::vector<int> workers;  // by rx queue: the worker polling it, -1 for none
    std::string status;
    bool holds_address = true;  // false: the saved address was unusable, never reserved
  };
  // Counter totals at a point in time, subtracted from the live sums: the workers' counters only
  // grow, so clearing statistics, or re-using a port id for a new pod, moves the baseline.
  struct PortTotals {
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    std::array<uint64_t, kNumDropReasons> drops{};
  };
  struct WorkerTotals {
    uint64_t rx_packets = 0, tx_packets = 0, busy_cycles = 0, idle_cycles = 0;
    uint64_t cache_hits = 0, cache_misses = 0, rx_bursts = 0;
  };
  PortTotals port_totals(PortId port_id) const;
  WorkerTotals worker_totals(const Worker& worker) const;

  // Control-thread implementations of the API.
  Result<PodInfo> do_add_pod(const PodSpec& spec);
  Result<Empty> do_del_pod(const std::string& id);
  Result<PodInfo> do_get_pod(const std::string& id);
  SwitchStats do_stats() const;

  std::string validate_spec(const PodSpec& spec) const;
  // The queues of a kernel pod's tap: one per worker, at most tap_queues (PortManager::tap_queues
  // bounds it further).
  uint16_t kernel_pod_queues() const {
    return PortManager::tap_queues(workers_.size(), config_.max_pods, config_.tap_queues);
  }
  std::string vhost_socket_path(const std::string& pod_id) const;
  PortHandle create_pod_port(const PodRecord& record);
  void destroy_pod_port(Pod& pod);
  void restore_pods(const SwitchState& state);
  NodeStatus node_status() const;

  // The pod CIDR (switch_pod_cidr.cc).
  Result<NodeStatus> do_set_pod_cidr(const std::string& text);
  // At start: the saved state's pod CIDR wins over the configured one (its pods' addresses come
  // from it). Throws when the configuration cannot take it.
  void adopt_saved_pod_cidr(const SwitchState& state);
  // Makes `cidr` the pod CIDR of everything built from it in memory: IPAM, the host IP and MAC,
  // Service admission. Not the kernel, the tables or the saved state.
  void use_pod_cidr(const Ipv4Prefix& cidr);
  // The host port's kernel set-up for the node address `host_ip` in `cidr`.
  HostInterfaceConfig host_interface(Ipv4 host_ip, const Ipv4Prefix& cidr) const;
  void persist() const;
  std::string try_persist();  // "" or why the state was not saved (then retried on the next DEL)
  static void remove_socket_dir(const PodRecord& record);
  void reset_port_counters(PortId port_id);

  // Rx queues (switch_rxqs.cc). `workers` is the port's placement, by queue (Pod::workers).
  void for_each_polled_port(const std::function<void(const PortHandle&, std::vector<int>&)>& fn);
  void assign_rxq(const PortHandle& port, uint16_t queue, std::vector<int>& workers);
  // A new port's queues: all of them, but only queue 0 of a DPDK pod (sync_vhost_queues polls
  // the others once the pod enables them).
  void assign_initial_rxqs(const PortHandle& port, std::vector<int>& workers);
  void unassign_rxq(const PortHandle& port, uint16_t queue, int worker);
  void unassign_rxqs(const PortHandle& port, std::vector<int>& workers);
  void rebalance_rxqs();
  // Follows what each multi-queue DPDK pod and a vhost-user uplink enabled: polls its enabled rx
  // queues and spreads sends over its enabled queue pairs. Run on every tick of the control loop.
  void sync_vhost_queues();
  // One port's, whose rx queues' workers are `workers`; `kind` and `name` say which in the log.
  void sync_vhost_queues(PortHandle& port, std::vector<int>& workers, const char* kind,
                         const std::string& name);
  void change_tx_queues(PortHandle& port, uint16_t tx_queues);
  // Its rx poll is a syscall (a tap's readv): poll it lazily when idle.
  static bool lazy_rx(const PortHandle& port);
  uint64_t recent_rxq_cycles(PortId port_id) const;
  void publish_table();
  PodInfo pod_info(const Pod& pod) const;
  // Also adds each port's drops, by reason, to `drop_sum` when given.
  std::vector<PortStats> port_stats(
      std::array<uint64_t, kNumDropReasons>* drop_sum = nullptr) const;

  // The overlay (switch_overlay.cc).
  struct RemoteNodeEntry {
    RemoteNodeSpec spec;  // as requested (name, pod CIDR, node IP, VTEP MAC)
    Ipv4Prefix cidr;
    Ipv4 node_ip = 0;
    MacAddr vtep_mac;
    Ipv4 next_hop = 0;  // the node itself, or uplink_gateway when it is off our subnet
  };
  void start_overlay(const std::vector<RemoteNodeSpec>& saved_nodes);
  void start_ethdev_uplink(uint16_t queues);  // its MAC, promiscuity and the rte_flow probe
  void stop_overlay();
  void overlay_tick();  // learn from punted ARP, send ARP requests, republish on MAC changes
  bool send_on_uplink(rte_mbuf* m);
  bool announce_node_ip();  // a gratuitous ARP out of the uplink; false if it could not be sent
  Ipv4 next_hop_for(Ipv4 node_ip) const;
  OverlayState overlay_state() const;
  Result<RemoteNodeSpec> do_add_node(const RemoteNodeSpec& spec);
  void release_next_hop(const RemoteNodeEntry& node);
  RemoteNodeSpec node_view(const RemoteNodeEntry& node) const;
  void fill_overlay_status(NodeStatus& s) const;
  bool masquerade_enabled() const;

  // Kubernetes Services (switch_services.cc): the API, admission and persistence.
  ServiceNode service_node() const;  // what admission needs to know of this node
  // Admits `spec` and, unless `save` fails, makes it the Service of its key. The caller
  // publishes the table (once for many).
  Result<ServiceSpec> do_add_service(const ServiceSpec& spec, bool save);
  void restore_services();
  // Makes saved Services durable: those older than ServiceStore::kFlushDelay, or all.
  void flush_services(bool all);
  // Compiles services_[key], or its absence after a delete, into the ServiceIndex
  // (switch_service_table.cc). Called after services_ has been updated; the caller publishes the
  // table next, once for any number of changes, which also frees the replaced Services.
  void services_changed(const std::string& key);

  template <typename T, typename F>
  Result<T> on_control_thread(F fn) {
    auto result = queue_.call(std::move(fn));
    if (!result) return Result<T>::fail(ErrorCode::internal, "podvsd is shutting down");
    return std::move(*result);
  }

  Config config_;
  Ipv4 host_ip_ = 0;
  MacAddr gateway_mac_;
  MacAddr host_mac_;
  rte_mempool* pool_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<ForwardingTableHandle> tables_;
  // Before workers_: freed after them.
  std::unique_ptr<SharedConnState> shared_conn_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<unsigned> worker_lcores_;
  std::unique_ptr<PortManager> ports_;
  Ipam ipam_;
  StateStore store_;
  std::map<std::string, Pod> pods_;
  std::optional<PortHandle> host_port_;
  std::vector<int> host_workers_;  // its one rx queue's worker, as Pod::workers
  // A port whose sends go under its lock whatever its queues, while its tx queues change.
  PortId tx_lock_forced_ = kNoPort;
  uint64_t table_version_ = 0;
  uint64_t next_device_ = 0;
  // By PortId, config_.max_ports of each.
  std::vector<rte_spinlock_t> tx_locks_;
  std::vector<PortTotals> port_base_;
  // rx cycles per port at the last rebalance: loads are measured since then, not since boot.
  std::vector<uint64_t> rxq_cycles_mark_;
  std::vector<WorkerTotals> worker_base_;
  ControlQueue queue_;
  bool workers_running_ = false;
  bool state_dirty_ = false;  // the last save failed: the file may still list deleted pods

  std::optional<PortHandle> uplink_port_;
  // Its rx queues' workers, as Pod::workers: queue i worker i on a DPDK device, placed by load
  // and followed as the peer enables them on vhost-user.
  std::vector<int> uplink_workers_;
  MacAddr uplink_mac_;           // our VTEP MAC
  std::string uplink_offload_;   // "rte_flow" or why not
  bool uplink_link_up_ = false;  // at the last overlay_tick: each rise sends an announcement
  uint64_t uplink_announcements_ = 0;
  rte_flow* uplink_flow_ = nullptr;
  std::map<std::string, RemoteNodeEntry> nodes_;
  std::map<Ipv4, int> next_hop_users_;  // remote nodes per next hop
  NeighbourTable neighbours_;
  std::vector<RemoteNodeSpec> saved_nodes_;  // from the state file, until the uplink is up

  std::map<std::string, ServiceSpec> services_;  // by service_key, normalised
  ServiceAdmission service_admission_{service_node()};
  ServiceStore service_store_{config_.state_dir};

  // Services in the data path (switch_service_table.cc). They need the workers' connection
  // tracking, which every worker shares (vswitch/conn_state.h).
  bool services_enabled() const { return config_.conntrack_entries != 0; }
  std::map<std::string, std::unique_ptr<CompiledService>> compiled_services_;
  // Replaced or deleted, still in the published table until the next publish_table(), which
  // frees them once the grace period is over.
  std::vector<std::unique_ptr<CompiledService>> retired_services_;
  std::shared_ptr<const ServiceIndex> service_index_ = std::make_shared<ServiceIndex>();
  uint32_t next_affinity_id_ = 1;

  // Random per start (NodeStatus::instance_id): controllers tell a restarted podvsd by it.
  uint64_t instance_id_ = 0;
  AgentRegistry agents_;
};

bool valid_pod_id(const std::string& id);
// The node's address on the host port: the pod CIDR's first address.
Ipv4 host_address(const Ipv4Prefix& cidr);

}  // namespace podvs
