// SwitchController's rx queue scheduling: which worker polls each port's rx queues, measured by
// the cycles they cost, re-planned when ports go; and a DPDK pod's queue pairs followed as the pod
// enables them. Control thread only.
#include <algorithm>
#include <thread>

#include "base/log.h"
#include "control/daemon/switch_controller.h"
#include "pmd/rxq_scheduler.h"

namespace podvs {

uint64_t SwitchController::recent_rxq_cycles(PortId port_id) const {
  uint64_t cycles = 0;
  for (const auto& w : workers_) cycles += w->counters().ports[port_id].rx_cycles.get();
  return cycles - rxq_cycles_mark_[port_id];
}

bool SwitchController::lazy_rx(const PortHandle& port) {
  return port.kind == PortKind::tap || port.kind == PortKind::host;
}

void SwitchController::for_each_polled_port(
    const std::function<void(const PortHandle&, std::vector<int>&)>& fn) {
  if (host_port_) fn(*host_port_, host_workers_);
  // A DPDK device's uplink queues are pinned, one per worker (switch_overlay.cc); a vhost-user
  // uplink's are placed like a pod's.
  if (uplink_port_ && uplink_port_->io.backend == PortBackend::vhost_user)
    fn(*uplink_port_, uplink_workers_);
  for (auto& [id, pod] : pods_)
    if (pod.port) fn(*pod.port, pod.workers);
}

namespace {

// Counters are kept per port, not per queue: a port's recent cycles are shared evenly among the
// queues polled. An estimate: a pod's queues carry what the senders' choice of queue gives them
// (the sending worker's for a DPDK pod, the kernel's per flow for a tap), even only on average.
uint64_t queue_share(uint64_t port_cycles, const std::vector<int>& workers) {
  uint64_t polled = 0;
  for (int w : workers) polled += w >= 0 ? 1 : 0;
  return polled == 0 ? 0 : port_cycles / polled;
}

}  // namespace

void SwitchController::assign_rxq(const PortHandle& port, uint16_t queue,
                                  std::vector<int>& workers) {
  const PortId port_id = port.port_id;
  std::vector<WorkerLoad> loads(workers_.size());
  bool port_polled = false;
  for_each_polled_port([&](const PortHandle& other, std::vector<int>& placed) {
    const uint64_t share = queue_share(recent_rxq_cycles(other.port_id), placed);
    for (int w : placed) {
      if (w < 0) continue;
      loads[w].rxq_cycles += share;
      ++loads[w].rx_queues;
      if (other.port_id == port_id) {
        ++loads[w].port_queues;
        port_polled = true;
      }
    }
  });
  // A port's first queue starts its measurement afresh (the id may have served another port).
  if (!port_polled) rxq_cycles_mark_[port_id] += recent_rxq_cycles(port_id);
  const size_t w = pick_worker(loads);
  workers_[w]->post(WorkerCommand::Kind::add_rxq,
                    RxQueue{.port = port_id, .queue = queue, .lazy = lazy_rx(port), .io = port.io});
  workers.resize(std::max<size_t>(workers.size(), queue + 1), -1);
  workers[queue] = static_cast<int>(w);
}

void SwitchController::assign_initial_rxqs(const PortHandle& port, std::vector<int>& workers) {
  workers.assign(port.rx_queues, -1);
  // Queue 0 is polled from the start, as a single-queue port's; a DPDK pod's others once it
  // enables them (sync_vhost_queues), a tap's at once.
  const uint16_t now = port.io.backend == PortBackend::vhost_user ? 1 : port.rx_queues;
  for (uint16_t q = 0; q < now; ++q) assign_rxq(port, q, workers);
}

void SwitchController::rebalance_rxqs() {
  if (workers_.size() < 2) return;
  struct Entry {
    const PortHandle* port;
    uint16_t queue;
    int* worker;
  };
  std::vector<Entry> entries;
  std::vector<RxqLoad> loads;
  std::vector<uint64_t> port_cycles;  // by entry: its port's, to move the port's mark once
  for_each_polled_port([&](const PortHandle& port, std::vector<int>& placed) {
    const uint64_t cycles = recent_rxq_cycles(port.port_id);
    const uint64_t share = queue_share(cycles, placed);
    bool first = true;
    for (uint16_t q = 0; q < placed.size(); ++q) {
      if (placed[q] < 0) continue;
      entries.push_back({&port, q, &placed[q]});
      loads.push_back({share, port.port_id});
      port_cycles.push_back(first ? cycles : 0);
      first = false;
    }
  });
  const std::vector<size_t> plan = plan_rxq_assignment(loads, workers_.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const PortHandle& port = *e.port;
    rxq_cycles_mark_[port.port_id] += port_cycles[i];
    if (static_cast<size_t>(*e.worker) == plan[i]) continue;
    // Never two pollers on one queue: the old worker lets go (and acknowledges) first. Only this
    // queue pauses, for one poll-loop iteration; every other port keeps flowing.
    unassign_rxq(port, e.queue, *e.worker);
    workers_[plan[i]]->post(
        WorkerCommand::Kind::add_rxq,
        RxQueue{.port = port.port_id, .queue = e.queue, .lazy = lazy_rx(port), .io = port.io});
    PODVS_LOG(info, "rx queue %u of port %u moved from worker %d to worker %zu", e.queue,
              port.port_id, *e.worker, plan[i]);
    *e.worker = static_cast<int>(plan[i]);
  }
}

void SwitchController::unassign_rxq(const PortHandle& port, uint16_t queue, int worker) {
  if (worker < 0) return;
  Worker& w = *workers_[worker];
  const uint64_t seq =
      w.post(WorkerCommand::Kind::remove_rxq,
             RxQueue{.port = port.port_id, .queue = queue, .lazy = false, .io = port.io});
  while (workers_running_ && !w.applied(seq)) std::this_thread::yield();
}

void SwitchController::unassign_rxqs(const PortHandle& port, std::vector<int>& workers) {
  for (uint16_t q = 0; q < workers.size(); ++q) unassign_rxq(port, q, workers[q]);
  workers.clear();
}

void SwitchController::sync_vhost_queues() {
  for (auto& [id, pod] : pods_)
    if (pod.port) sync_vhost_queues(*pod.port, pod.workers, "pod", id);
  if (uplink_port_) sync_vhost_queues(*uplink_port_, uplink_workers_, "port", "uplink");
}

void SwitchController::sync_vhost_queues(PortHandle& port, std::vector<int>& workers,
                                         const char* kind, const std::string& name) {
  if (port.io.backend != PortBackend::vhost_user || port.rx_queues < 2) return;
  const uint64_t rings = port.io.vhost->enabled_rings();
  // Rx: poll the queues the peer enabled (queue 0 always, see assign_initial_rxqs).
  for (uint16_t q = 1; q < port.rx_queues && q < workers.size(); ++q) {
    const bool enabled = vhost_rx_queue_enabled(rings, q);
    if (enabled && workers[q] < 0) {
      assign_rxq(port, q, workers);
      PODVS_LOG(info, "%s %s: rx queue %u enabled, polled by worker %d", kind, name.c_str(), q,
                workers[q]);
    } else if (!enabled && workers[q] >= 0) {
      unassign_rxq(port, q, workers[q]);
      workers[q] = -1;
      PODVS_LOG(info, "%s %s: rx queue %u disabled, no longer polled", kind, name.c_str(), q);
    }
  }
  // Tx: spread the workers over the queue pairs enabled.
  const uint16_t tx_queues = vhost_tx_queues_enabled(rings, port.rx_queues);
  if (tx_queues != port.io.tx_queues) change_tx_queues(port, tx_queues);
}

void SwitchController::change_tx_queues(PortHandle& port, uint16_t tx_queues) {
  // Workers pick their queue as worker % tx_queues, without a lock when each has its own. While
  // a new table replaces the old, some workers send by the old mapping and some by the new, so a
  // queue one of them uses alone may be another's too. Hence three publishes, each past a grace
  // period: the old mapping under the port's lock, the new one under it, then the new one
  // locked only if it needs to be. Rare (a pod enabling or disabling queue pairs), and no
  // worker waits: publish_table is the control thread's wait.
  tx_lock_forced_ = port.port_id;
  publish_table();
  const uint16_t old = port.io.tx_queues;
  port.io.tx_queues = tx_queues;
  publish_table();
  tx_lock_forced_ = kNoPort;
  publish_table();
  PODVS_LOG(info, "port %u: sends spread over %u queue pairs (was %u)%s", port.port_id, tx_queues,
            old, tx_queues < workers_.size() ? ", workers share them under a lock" : "");
}

}  // namespace podvs
