#include "control/daemon/switch_controller.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <filesystem>
#include <random>
#include <regex>
#include <stdexcept>

#include "base/log.h"
#include "control/daemon/netlink.h"
#include "control/daemon/netns.h"
#include "control/daemon/pod_interface.h"

namespace podvs {
namespace {

// sizeof(sockaddr_un::sun_path) including the terminating NUL.
constexpr size_t kSunPathMax = 108;
constexpr const char* kVhostSocketName = "vhost-user.sock";
constexpr unsigned kMbufCache = 256;

bool valid_ifname(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return name.find_first_of("/: \t\n") == std::string::npos;
}

}  // namespace

Ipv4 host_address(const Ipv4Prefix& cidr) { return cidr.network + 1; }

bool valid_pod_id(const std::string& id) {
  static const std::regex pattern("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(id, pattern);
}

SwitchController::SwitchController(const Config& config)
    : config_(config),
      host_ip_(host_address(config.pod_cidr)),
      gateway_mac_(MacAddr::from_ipv4(config.gateway_ip)),
      host_mac_(MacAddr::from_ipv4(host_address(config.pod_cidr))),
      ipam_(config.pod_cidr, {host_address(config.pod_cidr)}),
      store_(config.state_dir),
      tx_locks_(config.max_ports),
      port_base_(config.max_ports),
      rxq_cycles_mark_(config.max_ports, 0) {
  for (auto& lock : tx_locks_) rte_spinlock_init(&lock);
  // Two 32-bit draws: random_device yields unsigned int. Never 0, which a client reads as "not
  // known yet".
  std::random_device random;
  do instance_id_ = (uint64_t{random()} << 32) | random();
  while (instance_id_ == 0);
}

SwitchController::~SwitchController() {
  shutdown();
  tables_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
  rte_free(qsbr_);
}

void SwitchController::start() {
  const std::string pool_name = "mbufs_" + config_.file_prefix;
  pool_ = rte_pktmbuf_pool_create(pool_name.substr(0, RTE_MEMPOOL_NAMESIZE - 1).c_str(),
                                  config_.mbufs, kMbufCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr)
    throw std::runtime_error("cannot allocate " + std::to_string(config_.mbufs) +
                             " mbufs: " + rte_strerror(rte_errno) +
                             " (reserve more hugepages or lower --mbufs)");

  const uint32_t n_workers = static_cast<uint32_t>(config_.worker_cpus.size());
  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc("podvs_qsbr", rte_rcu_qsbr_get_memsize(n_workers), RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, n_workers) != 0)
    throw std::runtime_error("cannot set up RCU for the workers");
  tables_ = std::make_unique<ForwardingTableHandle>(qsbr_);
  ports_ = std::make_unique<PortManager>(pool_, static_cast<uint16_t>(config_.max_ports), qsbr_);
  worker_base_.resize(n_workers);
  // Before anything is built from the pod CIDR: the saved one may differ from the configured one.
  const std::optional<SwitchState> saved = store_.load();
  if (saved) adopt_saved_pod_cidr(*saved);

  // One connection table for all workers (conn_state.h says why), conntrack_entries each.
  if (config_.conntrack_entries != 0)
    shared_conn_ = std::make_unique<SharedConnState>(config_.conntrack_entries, n_workers,
                                                     rte_get_tsc_hz(), qsbr_);
  WorkerOptions options{config_.flow_cache_entries,
                        config_.idle_backoff_polls,
                        config_.idle_backoff_us,
                        shared_conn_.get(),
                        {},
                        kLazyRestUs,
                        static_cast<uint16_t>(config_.max_ports)};
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (uint16_t i = 0; i < n_workers; ++i, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    if (lcore >= RTE_MAX_LCORE) throw std::runtime_error("fewer worker lcores than --workers");
    options.snat_ports = worker_port_range(SnatPortRange{}, i, n_workers);
    workers_.push_back(std::make_unique<Worker>(i, *tables_, qsbr_, options));
    worker_lcores_.push_back(lcore);
  }
  publish_table();
  // Set first: if a later launch fails, shutdown() must still stop the workers already running.
  workers_running_ = true;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (rte_eal_remote_launch(launch_worker, workers_[i].get(), worker_lcores_[i]) != 0)
      throw std::runtime_error("cannot launch worker on lcore " +
                               std::to_string(worker_lcores_[i]));
  }

  host_port_ = ports_->create_tap("host_" + config_.host_port, config_.host_port);
  configure_host_interface(host_interface(host_ip_, config_.pod_cidr));
  reset_port_counters(host_port_->port_id);
  if (saved) restore_pods(*saved);
  // Workers poll a port only once the published table knows it (anti-spoofing needs its entry).
  publish_table();
  assign_initial_rxqs(*host_port_, host_workers_);
  for (auto& [id, pod] : pods_)
    if (pod.port) assign_initial_rxqs(*pod.port, pod.workers);
  start_overlay(std::exchange(saved_nodes_, {}));
  restore_services();
}

void SwitchController::run(const std::atomic<bool>& stop) {
  // With an overlay the loop also resolves next hops: ARP answers wait at most one period.
  const auto period = std::chrono::milliseconds(uplink_port_ ? 20 : 100);
  while (!stop.load()) {
    queue_.run_pending(period);
    overlay_tick();
    sync_vhost_queues();
    flush_services(false);
  }
}

void SwitchController::shutdown() {
  queue_.drain_and_close();
  flush_services(true);
  if (workers_running_) {
    for (auto& w : workers_) w->request_stop();
    rte_eal_mp_wait_lcore();
    workers_running_ = false;
  }
  // Workers are stopped: ports can go without waiting for grace periods.
  for (auto& [id, pod] : pods_)
    if (pod.port) {
      ports_->destroy(*pod.port);
      pod.port.reset();
    }
  if (host_port_) {
    ports_->destroy(*host_port_);
    host_port_.reset();
  }
  stop_overlay();
}

std::string SwitchController::vhost_socket_path(const std::string& pod_id) const {
  return config_.vhost_dir + "/" + pod_id + "/" + kVhostSocketName;
}

std::string SwitchController::validate_spec(const PodSpec& spec) const {
  if (!valid_pod_id(spec.id))
    return "pod id '" + spec.id +
           "' is invalid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter "
           "or digit";
  if (spec.kind == PortKind::host) return "pod kind must be tap or vhost-user";
  if (const std::string error = validate_pod_queues(spec.kind, spec.queues); !error.empty())
    return error;
  if (spec.kind == PortKind::tap) {
    if (spec.netns.empty()) return "a tap pod needs the path of its network namespace (netns)";
    if (!netns_exists(spec.netns))
      return "network namespace " + spec.netns + " does not exist or is not a network namespace";
    if (!valid_ifname(spec.ifname))
      return "interface name '" + spec.ifname +
             "' is invalid: 1 to 15 characters, no '/', ':' or whitespace";
  } else {
    const std::string path = vhost_socket_path(spec.id);
    if (path.size() >= kSunPathMax)
      return "vhost-user socket path " + path + " is " + std::to_string(path.size()) +
             " bytes; a unix socket path must fit sun_path (" + std::to_string(kSunPathMax) +
             " bytes with its NUL): use a shorter pod id or --vhost-dir";
  }
  return {};
}

PortHandle SwitchController::create_pod_port(const PodRecord& record) {
  const PodSpec& spec = record.spec;
  const std::string seq = std::to_string(next_device_++);
  if (spec.kind == PortKind::vhost_user) {
    std::filesystem::create_directories(std::filesystem::path(record.socket_path).parent_path());
    return ports_->create_vhost("vhost_p" + seq, record.socket_path, spec.vhost_server, spec.queues,
                                config_.pod_mtu());
  }
  // The tap is created inside the pod's namespace, so its kernel side is born there under its
  // final name; DPDK's control socket for it then lives there too and keeps working.
  ScopedNetns in_pod(spec.netns);
  Netlink nl;
  if (nl.ifindex(spec.ifname) >= 0)
    throw std::runtime_error("interface " + spec.ifname + " already exists in " + spec.netns);
  PortHandle handle = ports_->create_tap("tap_p" + seq, spec.ifname, kernel_pod_queues());
  try {
    configure_pod_interface(
        {spec.ifname, record.ip, record.mac, config_.pod_mtu(), config_.gateway_ip});
  } catch (...) {
    ports_->destroy(handle);
    throw;
  }
  return handle;
}

void SwitchController::destroy_pod_port(Pod& pod) {
  if (!pod.port) return;
  ports_->destroy(*pod.port);
  pod.port.reset();
  pod.workers.clear();
}

void SwitchController::publish_table() {
  std::vector<PortEntry> ports(config_.max_ports);
  std::vector<ForwardingTable::PodRoute> routes;
  const uint16_t n_workers = static_cast<uint16_t>(workers_.size());
  // Workers share a tx queue under its port's lock only when there are fewer queues than workers
  // and the backend's queue cannot be shared as it is (port_io.h).
  auto entry = [&](const PortHandle& handle) -> PortEntry& {
    PortEntry& e = ports[handle.port_id];
    e.in_use = true;
    e.io = handle.io;
    const bool shared = handle.io.tx_queues < n_workers || handle.port_id == tx_lock_forced_;
    e.io.tx_lock = shared && tx_queue_needs_lock_to_share(handle.io.backend)
                       ? &tx_locks_[handle.port_id]
                       : nullptr;
    return e;
  };
  PortId host = kNoPort;
  if (host_port_) {
    host = host_port_->port_id;
    PortEntry& e = entry(*host_port_);
    e.is_host = true;
    e.mac = to_rte(host_mac_);
  }
  for (const auto& [id, pod] : pods_) {
    if (!pod.port) continue;
    PortEntry& e = entry(*pod.port);
    e.check_source = true;
    e.mac = to_rte(pod.record.mac);
    e.ip = rte_cpu_to_be_32(pod.record.ip);
    routes.push_back({pod.record.ip, pod.port->port_id});
  }
  if (uplink_port_) entry(*uplink_port_).mac = to_rte(uplink_mac_);
  const ForwardingConfig fc{config_.pod_cidr, host_ip_, config_.gateway_ip, gateway_mac_};
  auto table =
      std::make_unique<ForwardingTable>(++table_version_, fc, std::move(ports), host, routes);
  table->set_overlay(overlay_state());
  table->set_services(service_index_);
  tables_->publish(std::move(table));
  // publish() returned after the grace period: no worker can still be reading these.
  retired_services_.clear();
}

std::string SwitchController::try_persist() {
  try {
    persist();
    state_dirty_ = false;
    return {};
  } catch (const std::exception& e) {
    state_dirty_ = true;
    return e.what();
  }
}

void SwitchController::remove_socket_dir(const PodRecord& record) {
  if (record.socket_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(record.socket_path).parent_path(), ec);
}

void SwitchController::reset_port_counters(PortId port_id) {
  // port_totals() subtracts the current baseline: clear it first to read the raw sums.
  port_base_[port_id] = {};
  port_base_[port_id] = port_totals(port_id);
}

void SwitchController::persist() const {
  SwitchState state;
  state.pod_cidr = config_.pod_cidr.str();
  state.ipam_cursor = ipam_.cursor();
  for (const auto& [id, pod] : pods_) state.pods.push_back(pod.record);
  for (const auto& [name, node] : nodes_) state.nodes.push_back(node.spec);
  store_.save(state);
}

void SwitchController::restore_pods(const SwitchState& state) {
  ipam_.set_cursor(state.ipam_cursor);
  saved_nodes_ = state.nodes;
  for (const PodRecord& record : state.pods) {
    if (pods_.count(record.spec.id) != 0) {
      PODVS_LOG(error, "pod %s appears twice in %s; the second record is ignored",
                record.spec.id.c_str(), store_.file().c_str());
      continue;
    }
    Pod pod{record, std::nullopt, {}, "up"};
    if (!ipam_.reserve(record.ip)) {
      // Without its address the pod must not get a route: it could shadow another pod's.
      pod.status = "saved address " + ipv4_str(record.ip) + " is outside " +
                   config_.pod_cidr.str() + " or already in use; delete and re-add the pod";
      PODVS_LOG(error, "pod %s: %s", record.spec.id.c_str(), pod.status.c_str());
      pod.holds_address = false;
      pods_.emplace(record.spec.id, std::move(pod));
      continue;
    }
    try {
      pod.port = create_pod_port(record);
      reset_port_counters(pod.port->port_id);
    } catch (const std::exception& e) {
      pod.status = std::string("port not restored: ") + e.what();
      PODVS_LOG(error, "pod %s: %s", record.spec.id.c_str(), pod.status.c_str());
    }
    pods_.emplace(record.spec.id, std::move(pod));
  }
  PODVS_LOG(info, "restored %zu pods from %s", pods_.size(), store_.file().c_str());
}

PodInfo SwitchController::pod_info(const Pod& pod) const {
  PodInfo info;
  info.spec = pod.record.spec;
  // A kernel pod's queues are podvsd's choice (one per worker), not the request's.
  if (pod.port && pod.port->kind == PortKind::tap) info.spec.queues = pod.port->rx_queues;
  info.ip = ipv4_str(pod.record.ip);
  info.mac = pod.record.mac.str();
  info.gateway_ip = ipv4_str(config_.gateway_ip);
  info.mtu = config_.pod_mtu();
  info.socket_path = pod.record.socket_path;
  info.status = pod.status;
  if (pod.port) {
    info.port_name = pod.port->dev_name;
    info.port_id = pod.port->port_id;
  }
  return info;
}

Result<PodInfo> SwitchController::do_add_pod(const PodSpec& spec) {
  if (const std::string error = validate_spec(spec); !error.empty())
    return Result<PodInfo>::fail(ErrorCode::invalid_argument, error);
  if (pods_.count(spec.id) != 0)
    return Result<PodInfo>::fail(ErrorCode::already_exists, "pod " + spec.id + " already exists");
  if (ports_->in_use() >= ports_->capacity())
    return Result<PodInfo>::fail(ErrorCode::resource_exhausted,
                                 "no port left: all " + std::to_string(ports_->capacity()) +
                                     " ports of podvsd's capacity are in use (max_ports)");
  if (const PodLimit limit = pod_limit(config_, ipam_.capacity()); pods_.size() >= limit.limit)
    return Result<PodInfo>::fail(ErrorCode::resource_exhausted,
                                 pod_limit_error(config_, limit, pods_.size()));
  // Packets in flight need buffers too: keep this many free beyond what ports hold.
  constexpr unsigned kMbufReserve = 2048;
  const unsigned free_mbufs = rte_mempool_avail_count(pool_);
  const unsigned needed =
      PortManager::mbufs_per_port(spec.kind, spec.kind == PortKind::tap ? kernel_pod_queues() : 1) +
      kMbufReserve;
  if (free_mbufs < needed)
    return Result<PodInfo>::fail(
        ErrorCode::resource_exhausted,
        "not enough packet buffers for another " + std::string(port_kind_name(spec.kind)) +
            " pod: " + std::to_string(free_mbufs) + " of " + std::to_string(config_.mbufs) +
            " are free and it needs " + std::to_string(needed) +
            "; restart podvsd with a larger --mbufs");
  const std::optional<Ipv4> ip = ipam_.allocate();
  if (!ip)
    return Result<PodInfo>::fail(ErrorCode::resource_exhausted,
                                 "pod CIDR " + config_.pod_cidr.str() + " has no free address (" +
                                     std::to_string(ipam_.used()) + " in use)");
  PodRecord record{spec, *ip, MacAddr::from_ipv4(*ip), ""};
  record.spec.vhost_server = spec.vhost_server || config_.vhost_server;
  if (spec.kind == PortKind::vhost_user) record.socket_path = vhost_socket_path(spec.id);
  Pod pod{record, std::nullopt, {}, "up"};
  try {
    pod.port = create_pod_port(record);
    pods_.emplace(spec.id, pod);
    persist();
  } catch (const std::exception& e) {
    pods_.erase(spec.id);
    destroy_pod_port(pod);
    remove_socket_dir(record);
    ipam_.release(*ip);
    return Result<PodInfo>::fail(ErrorCode::internal,
                                 "cannot attach pod " + spec.id + ": " + e.what());
  }
  Pod& added = pods_.at(spec.id);
  reset_port_counters(added.port->port_id);
  publish_table();
  assign_initial_rxqs(*added.port, added.workers);
  PODVS_LOG(info, "pod %s attached: %s on port %s", spec.id.c_str(), ipv4_str(*ip).c_str(),
            added.port->dev_name.c_str());
  return Result<PodInfo>::ok(pod_info(added));
}

Result<Empty> SwitchController::do_del_pod(const std::string& id) {
  auto it = pods_.find(id);
  if (it == pods_.end()) {
    // A retried DEL after a failed save: the pod is gone here, make sure it is gone on disk.
    if (state_dirty_) try_persist();
    return Result<Empty>::ok({});
  }
  Pod pod = std::move(it->second);
  pods_.erase(it);
  // Order matters: no worker may route to the port (grace period in publish_table) or poll it
  // (unassign waits for the worker's acknowledgement) before the port goes away.
  publish_table();
  if (pod.port) unassign_rxqs(*pod.port, pod.workers);
  destroy_pod_port(pod);
  remove_socket_dir(pod.record);
  // A pod restored with an unusable address never held it: releasing would free another pod's.
  if (pod.holds_address) ipam_.release(pod.record.ip);
  rebalance_rxqs();
  try {
    persist();
  } catch (const std::exception& e) {
    return Result<Empty>::fail(
        ErrorCode::internal,
        "pod " + id + " was detached but the state was not saved: " + e.what());
  }
  PODVS_LOG(info, "pod %s detached, %s released", id.c_str(), ipv4_str(pod.record.ip).c_str());
  return Result<Empty>::ok({});
}

Result<PodInfo> SwitchController::do_get_pod(const std::string& id) {
  auto it = pods_.find(id);
  if (it == pods_.end()) return Result<PodInfo>::fail(ErrorCode::not_found, "no pod " + id);
  Pod& pod = it->second;
  if (pod.port && pod.record.spec.kind == PortKind::tap) {
    try {
      ScopedNetns in_pod(pod.record.spec.netns);
      pod.status = check_pod_interface({pod.record.spec.ifname, pod.record.ip, pod.record.mac,
                                        config_.pod_mtu(), config_.gateway_ip});
    } catch (const std::exception& e) {
      pod.status = e.what();
    }
  } else if (pod.port) {
    pod.status = PortManager::link_up(*pod.port) ? "up" : "waiting for the pod's virtio-user";
  }
  return Result<PodInfo>::ok(pod_info(pod));
}

Result<PodInfo> SwitchController::add_pod(const PodSpec& spec) {
  return on_control_thread<PodInfo>([this, spec] { return do_add_pod(spec); });
}

Result<Empty> SwitchController::del_pod(const std::string& id) {
  return on_control_thread<Empty>([this, id] { return do_del_pod(id); });
}

Result<PodInfo> SwitchController::get_pod(const std::string& id) {
  return on_control_thread<PodInfo>([this, id] { return do_get_pod(id); });
}

HostInterfaceConfig SwitchController::host_interface(Ipv4 host_ip, const Ipv4Prefix& cidr) const {
  return {config_.host_port,   host_ip, MacAddr::from_ipv4(host_ip),
          config_.pod_mtu(),   cidr,    config_.gateway_ip,
          config_.service_cidr};
}

NodeStatus SwitchController::node_status() const {
  NodeStatus s;
  s.version = PODVS_VERSION;
  s.pod_cidr = config_.pod_cidr.str();
  s.gateway_ip = ipv4_str(config_.gateway_ip);
  s.host_ip = ipv4_str(host_ip_);
  s.mtu = config_.pod_mtu();
  s.addresses_total = ipam_.capacity();
  s.addresses_used = ipam_.used();
  s.ports_used = ports_ ? ports_->in_use() : 0;
  s.ports_max = config_.max_ports;
  const PodLimit limit = pod_limit(config_, ipam_.capacity());
  s.pods = pods_.size();
  s.pods_max = limit.limit;
  s.pods_bound = limit.bound;
  s.workers = static_cast<uint32_t>(workers_.size());
  fill_overlay_status(s);
  s.instance_id = instance_id_;
  s.agents = agents_.seen(AgentRegistry::Clock::now());
  return s;
}

Result<uint64_t> SwitchController::report_agent(const AgentReport& report) {
  return on_control_thread<uint64_t>([this, report] {
    const Result<Empty> kept = agents_.report(report, AgentRegistry::Clock::now());
    if (!kept.is_ok()) return Result<uint64_t>::fail(kept.error.code, kept.error.message);
    return Result<uint64_t>::ok(instance_id_);
  });
}

Result<NodeStatus> SwitchController::status() {
  return on_control_thread<NodeStatus>([this] { return Result<NodeStatus>::ok(node_status()); });
}

Result<std::vector<PodInfo>> SwitchController::list_pods() {
  return on_control_thread<std::vector<PodInfo>>([this] {
    std::vector<PodInfo> out;
    for (const auto& [id, pod] : pods_) out.push_back(pod_info(pod));
    return Result<std::vector<PodInfo>>::ok(std::move(out));
  });
}

}  // namespace podvs
