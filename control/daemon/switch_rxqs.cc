// SwitchController's rx queue scheduling: which worker polls each port, measured by the cycles
// its queue costs, re-planned when ports go. Control thread only.
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

int SwitchController::assign_rxq(const PortHandle& port) {
  const PortId port_id = port.port_id;
  std::vector<WorkerLoad> loads(workers_.size());
  auto account = [&](const std::optional<PortHandle>& other, int worker) {
    if (!other || worker < 0) return;
    loads[worker].rxq_cycles += recent_rxq_cycles(other->port_id);
    ++loads[worker].rx_queues;
  };
  account(host_port_, host_worker_);
  for (const auto& [id, pod] : pods_) account(pod.port, pod.worker);
  rxq_cycles_mark_[port_id] += recent_rxq_cycles(port_id);
  const size_t w = pick_worker(loads);
  workers_[w]->post(WorkerCommand::Kind::add_rxq,
                    RxQueue{.port = port_id, .queue = 0, .lazy = lazy_rx(port), .io = port.io});
  return static_cast<int>(w);
}

void SwitchController::rebalance_rxqs() {
  if (workers_.size() < 2) return;
  struct Entry {
    const PortHandle* port;
    int* worker;
  };
  std::vector<Entry> entries;
  std::vector<uint64_t> cycles;
  auto collect = [&](const std::optional<PortHandle>& port, int& worker) {
    if (!port || worker < 0) return;
    entries.push_back({&*port, &worker});
    cycles.push_back(recent_rxq_cycles(port->port_id));
  };
  collect(host_port_, host_worker_);
  for (auto& [id, pod] : pods_) collect(pod.port, pod.worker);
  const std::vector<size_t> plan = plan_rxq_assignment(cycles, workers_.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const PortHandle& port = *e.port;
    rxq_cycles_mark_[port.port_id] += cycles[i];
    if (static_cast<size_t>(*e.worker) == plan[i]) continue;
    // Never two pollers on one queue: the old worker lets go (and acknowledges) first. Only this
    // queue pauses, for one poll-loop iteration; every other port keeps flowing.
    unassign_rxq(port, *e.worker);
    workers_[plan[i]]->post(
        WorkerCommand::Kind::add_rxq,
        RxQueue{.port = port.port_id, .queue = 0, .lazy = lazy_rx(port), .io = port.io});
    PODVS_LOG(info, "rx queue of port %u moved from worker %d to worker %zu", port.port_id,
              *e.worker, plan[i]);
    *e.worker = static_cast<int>(plan[i]);
  }
}

void SwitchController::unassign_rxq(const PortHandle& port, int worker) {
  if (worker < 0) return;
  Worker& w = *workers_[worker];
  const uint64_t seq =
      w.post(WorkerCommand::Kind::remove_rxq,
             RxQueue{.port = port.port_id, .queue = 0, .lazy = false, .io = port.io});
  while (workers_running_ && !w.applied(seq)) std::this_thread::yield();
}

}  // namespace podvs
