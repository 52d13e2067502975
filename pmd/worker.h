// A poll-mode worker: one DPDK lcore pinned to a dedicated core, polling the rx queues the
// control thread assigned to it and running each burst through the pipeline.
//
// Control → worker: commands (add/remove an rx queue) travel through a single-producer
// single-consumer lock-free queue, applied at the top of the poll loop; the worker publishes the
// sequence number of the last command it applied (release), so the control thread knows when a
// removed queue will no longer be polled. Worker → readers: counters (see worker_counters.h).
// Tables: read through ForwardingTableHandle under RCU; the worker reports a quiescent state at
// the end of every iteration, when it holds no reference to any table or packet.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "ports/port_id.h"
#include "ports/port_io.h"
#include "vswitch/flow_cache.h"
#include "vswitch/forwarding_table.h"
#include "vswitch/pipeline.h"
#include "vswitch/tx_buffers.h"
#include "vswitch/worker_counters.h"

namespace podvs {

struct RxQueue {
  PortId port = 0;
  uint16_t queue = 0;
  // Polling this queue costs a syscall even when it is empty (a tap's readv on its fd): after an
  // empty poll the worker rests it (kLazyRestUs, doubling up to kLazyRestMaxUs while it stays
  // idle), so idle kernel pods do not tax the vhost-user traffic sharing the worker. A busy lazy
  // queue is polled every iteration.
  bool lazy = false;
  PortIo io;  // how to receive from the port: the worker needs no table to poll it
  bool same_queue(const RxQueue& o) const { return port == o.port && queue == o.queue; }
};

struct WorkerCommand {
  enum class Kind : uint8_t { add_rxq, remove_rxq };
  Kind kind = Kind::add_rxq;
  RxQueue rxq;
  uint64_t seq = 0;
};

// An idle lazy queue (a tap: its poll is a read() syscall of ~2 us) rests this long after an
// empty poll. Counted in time, not iterations: an idle worker iterates every ~100 ns, so skipping a
// fixed number of iterations still spent most of an idle worker in syscalls and delayed the
// vhost-user traffic sharing it. A busy lazy queue is polled every iteration.
inline constexpr uint32_t kLazyRestUs = 50;
// Each further empty poll doubles the rest, up to this. Every node has an idle tap (the host port
// podvs0): at a fixed 50 us its readv was up to 20,000 syscalls a second on a worker forwarding
// vhost-user traffic (0.8-3 % of its samples in docs/cycle_budget.md), each a gap of
// microseconds in the poll loop; at 400 us they are at most 2,500 a second (perf stat counted
// 5-8 times fewer). The price: the first packet after a quiet spell of a kernel pod waits up to
// 400 us; a queue that delivered a packet is back to kLazyRestUs at once.
inline constexpr uint32_t kLazyRestMaxUs = 400;

struct WorkerOptions {
  uint32_t flow_cache_entries = 8192;
  uint32_t idle_backoff_polls = 0;  // 0: never sleep
  uint32_t idle_backoff_us = 200;
  SharedConnState* conn = nullptr;      // all workers' connections; null: no masquerade, Services
  SnatPortRange snat_ports;             // this worker's share of the SNAT source ports
  uint32_t lazy_rest_us = kLazyRestUs;  // how long an idle lazy queue rests after an empty poll
  uint16_t port_capacity = kDefaultPortCapacity;  // PortIds run from 0 to this, exclusive
  uint32_t lazy_rest_max_us = kLazyRestMaxUs;     // an idle lazy queue's rest doubles up to this
};

class Worker {
 public:
  Worker(uint16_t index, const ForwardingTableHandle& tables, rte_rcu_qsbr* qsbr,
         const WorkerOptions& options);
  ~Worker();  // frees the packets still queued between it and the control thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Control thread side.
  uint64_t post(WorkerCommand::Kind kind, RxQueue rxq);  // returns the command's sequence number
  bool applied(uint64_t seq) const { return applied_seq_.load(std::memory_order_acquire) >= seq; }
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  uint32_t rx_queue_count() const { return rxq_count_.load(std::memory_order_relaxed); }
  uint16_t index() const { return index_; }
  const WorkerCounters& counters() const { return counters_; }
  // Control thread: a frame for the worker to send on port m->port (its tx queue needs no lock);
  // false when the queue is full (the caller still owns `m`).
  bool inject(rte_mbuf* m) { return inject_.push(m); }
  // Control thread: the next frame the pipeline punted (uplink ARP), or nullptr.
  rte_mbuf* take_punted() {
    rte_mbuf* m = nullptr;
    return punted_.pop(m) ? m : nullptr;
  }

  // Worker lcore side: the poll loop, returns when stopped. Launch with launch_worker().
  int run();
  // One iteration of the poll loop; run() is a loop over it. Public for tests.
  bool poll_once();
  // For tests, on the worker's thread: the TSC cycles rx queue `rxq` rests after its next empty
  // poll (0 for a queue it does not poll).
  uint64_t next_rest(const RxQueue& rxq) const;

 private:
  void apply_commands();

  const uint16_t index_;
  const ForwardingTableHandle& tables_;
  rte_rcu_qsbr* const qsbr_;
  const WorkerOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> applied_seq_{0};
  std::atomic<uint32_t> rxq_count_{0};
  uint64_t next_seq_ = 0;  // control thread only
  boost::lockfree::spsc_queue<WorkerCommand, boost::lockfree::capacity<256>> commands_;
  MbufQueue inject_;  // control → worker
  MbufQueue punted_;  // worker → control

  // Worker-private state below.
  struct PolledQueue {
    RxQueue rxq;
    uint64_t rest_until = 0;  // TSC before which an idle lazy queue is not polled again
    uint64_t rest = 0;        // how long the next empty poll rests it (doubles while idle)
  };
  std::vector<PolledQueue> rxqs_;
  FlowCache cache_;
  std::unique_ptr<ConnState> conn_;  // null: options.conn is null
  const uint64_t lazy_rest_cycles_;
  const uint64_t lazy_rest_max_cycles_;
  TxBuffers tx_;
  uint32_t empty_polls_ = 0;
  WorkerCounters counters_;
};

// rte_eal_remote_launch entry point; `arg` is the Worker.
int launch_worker(void* arg);

}  // namespace podvs
