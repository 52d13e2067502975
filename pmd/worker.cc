#include "pmd/worker.h"

#include <rte_cycles.h>

#include <algorithm>
#include <stdexcept>

#include "vswitch/pipeline.h"

namespace podvs {
namespace {

// Connection entries examined for expiry per poll iteration: a full 64k-entry table is swept in
// about 1000 iterations (a millisecond or so of a busy worker), far below any timeout.
constexpr uint32_t kExpireBudget = 64;
// Rx queues one worker usually polls at most: a node's pods spread over two workers.
constexpr size_t kRxQueuesReserved = 256;

}  // namespace

Worker::Worker(uint16_t index, const ForwardingTableHandle& tables, rte_rcu_qsbr* qsbr,
               const WorkerOptions& options)
    : index_(index),
      tables_(tables),
      qsbr_(qsbr),
      options_(options),
      cache_(options.flow_cache_entries),
      lazy_rest_cycles_(rte_get_tsc_hz() * options.lazy_rest_us / 1000000),
      lazy_rest_max_cycles_(
          std::max(lazy_rest_cycles_, rte_get_tsc_hz() * options.lazy_rest_max_us / 1000000)),
      tx_(options.port_capacity),
      counters_(options.port_capacity) {
  // Adding a queue never reallocates on the worker for the common node (it still may beyond).
  rxqs_.reserve(kRxQueuesReserved);
  if (options.conn != nullptr)
    conn_ =
        std::make_unique<ConnState>(*options.conn, index, options.snat_ports, rte_rdtsc() + index);
}

Worker::~Worker() {
  for (rte_mbuf* m = nullptr; inject_.pop(m);) rte_pktmbuf_free(m);
  for (rte_mbuf* m = nullptr; punted_.pop(m);) rte_pktmbuf_free(m);
}

uint64_t Worker::post(WorkerCommand::Kind kind, RxQueue rxq) {
  const WorkerCommand cmd{kind, rxq, ++next_seq_};
  if (!commands_.push(cmd))
    throw std::runtime_error("worker " + std::to_string(index_) + " command queue is full");
  return cmd.seq;
}

void Worker::apply_commands() {
  WorkerCommand cmd;
  while (commands_.pop(cmd)) {
    auto same = [&](const PolledQueue& p) { return p.rxq.same_queue(cmd.rxq); };
    if (cmd.kind == WorkerCommand::Kind::add_rxq) {
      if (std::none_of(rxqs_.begin(), rxqs_.end(), same))
        rxqs_.push_back({cmd.rxq, 0, lazy_rest_cycles_});
    } else {
      std::erase_if(rxqs_, same);
    }
    rxq_count_.store(static_cast<uint32_t>(rxqs_.size()), std::memory_order_relaxed);
    applied_seq_.store(cmd.seq, std::memory_order_release);
  }
}

bool Worker::poll_once() {
  apply_commands();
  const ForwardingTable* table = tables_.current();
  // One TSC read per non-empty burst (plus one per iteration): a burst's cycles run from the end
  // of the previous one, so the empty polls before it are charged to it. rdtsc costs ~30 cycles
  // in this VM; reading it around every poll cost more than the parse of a packet.
  const uint64_t start = rte_rdtsc();
  uint64_t mark = start;
  uint32_t received = 0;
  if (table != nullptr) {
    cache_.sync(table->version());
    BurstContext ctx{*table, cache_, tx_, counters_, index_, &punted_, conn_.get(), start};
    // Age the connection table a little every iteration, so it never needs a pause to sweep.
    // An empty table has nothing to age: scanning it would only pull its memory through the
    // cache while plain traffic runs.
    if (conn_) {
      if (conn_->conntrack.size() != 0)
        counters_.conntrack_expired.add(conn_->conntrack.expire(start, kExpireBudget));
      counters_.conntrack_entries.set(conn_->conntrack.size());
      if (conn_->affinity.size() != 0) conn_->affinity.expire(start, kExpireBudget);
    }
    rte_mbuf* pkts[kBurstSize];
    for (rte_mbuf* m = nullptr; inject_.pop(m);)
      if (tx_.push(m->port, m)) tx_.flush_port(m->port, *table, index_, counters_);
    for (PolledQueue& p : rxqs_) {
      if (p.rest_until > mark) continue;
      const RxQueue& q = p.rxq;
      RxRejects rejects;
      const uint16_t n = port_rx_burst(q.io, q.queue, pkts, kBurstSize, rejects);
      for (uint16_t i = 0; i < rejects.count; ++i)
        drop(rejects.pkts[i], q.port, rejects.reasons[i], counters_);
      if (n == 0) {
        if (q.lazy) {
          p.rest_until = mark + p.rest;
          p.rest = std::min(2 * p.rest, lazy_rest_max_cycles_);
        }
        continue;
      }
      p.rest = lazy_rest_cycles_;
      process_burst(q.port, pkts, n, ctx);
      received += n;
      counters_.rx_bursts.add(1);
      const uint64_t now = rte_rdtsc();
      counters_.ports[q.port].rx_cycles.add(now - mark);
      mark = now;
    }
    tx_.flush_all(*table, index_, counters_);
  }
  const uint64_t cycles = rte_rdtsc() - start;
  if (received != 0) {
    counters_.rx_packets.add(received);
    counters_.busy_cycles.add(cycles);
  } else {
    counters_.idle_cycles.add(cycles);
  }
  return received != 0;
}

uint64_t Worker::next_rest(const RxQueue& rxq) const {
  for (const PolledQueue& p : rxqs_)
    if (p.rxq.same_queue(rxq)) return p.rest;
  return 0;
}

int Worker::run() {
  rte_rcu_qsbr_thread_register(qsbr_, index_);
  rte_rcu_qsbr_thread_online(qsbr_, index_);
  while (!stop_.load(std::memory_order_relaxed)) {
    const bool busy = poll_once();
    rte_rcu_qsbr_quiescent(qsbr_, index_);
    empty_polls_ = busy ? 0 : empty_polls_ + 1;
    if (options_.idle_backoff_polls != 0 && empty_polls_ >= options_.idle_backoff_polls) {
      const uint64_t sleep_start = rte_rdtsc();
      rte_delay_us_sleep(options_.idle_backoff_us);
      counters_.idle_cycles.add(rte_rdtsc() - sleep_start);
    }
  }
  rte_rcu_qsbr_thread_offline(qsbr_, index_);
  rte_rcu_qsbr_thread_unregister(qsbr_, index_);
  return 0;
}

int launch_worker(void* arg) { return static_cast<Worker*>(arg)->run(); }

}  // namespace podvs
