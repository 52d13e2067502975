// Microbenchmark of the connection table all workers share (vswitch/nat/conntrack.h): lookups
// and updates of established connections, and new connections (create + remove), from 1 and 2
// threads, each an RCU reader reporting a quiescent state every burst of 32 as a worker does.
//
// usage: podvs-conn-bench [--seconds S] [--connections N]
// Prints one line per case: the case, the threads, millions of operations per second in all and
// per thread, and the median TSC cycles per operation. "both directions" has thread 0 look up each
// connection's original tuple and thread 1 its reply tuple: the two directions of one connection on
// two workers, the case where an entry's cache line could bounce between cores if packets wrote it.
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "vswitch/nat/conntrack.h"

namespace {

using podvs::ConnDir;
using podvs::ConnTable;
using podvs::ConnTrack;
using podvs::ConnTuple;

constexpr uint32_t kWorkers = 2;
constexpr int kBurst = 32;

ConnTuple flow(uint32_t i) {
  return {rte_cpu_to_be_32(0x0af40000 + (i >> 12)), rte_cpu_to_be_32(0x08080808),
          rte_cpu_to_be_16(static_cast<uint16_t>(10000 + (i & 0xfff))), rte_cpu_to_be_16(53),
          IPPROTO_UDP};
}

struct Rcu {
  explicit Rcu(uint32_t threads)
      : q(static_cast<rte_rcu_qsbr*>(
            std::aligned_alloc(RTE_CACHE_LINE_SIZE, rte_rcu_qsbr_get_memsize(threads)))) {
    if (q == nullptr || rte_rcu_qsbr_init(q, threads) != 0) std::abort();
    for (uint32_t t = 0; t < threads; ++t) rte_rcu_qsbr_thread_register(q, t);
  }
  ~Rcu() { std::free(q); }
  rte_rcu_qsbr* q;
};

// Runs body(thread, ops) on `threads` threads for `seconds`; prints the rates and the median
// TSC cycles per operation over all bursts: on a machine shared with other work the median is
// what a thread costs while it runs, where the rate also counts the time it was preempted.
template <typename Body>
void run(const char* name, uint32_t threads, double seconds, Rcu& rcu, Body body) {
  std::atomic<bool> stop{false};
  std::vector<uint64_t> ops(threads, 0);
  std::vector<std::vector<uint32_t>> burst_cycles(threads);
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<uint32_t>& cycles = burst_cycles[t];
      cycles.reserve(1u << 22);
      rte_rcu_qsbr_thread_online(rcu.q, t);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t start = rte_rdtsc();
        const uint64_t done = body(t, n);
        if (cycles.size() < cycles.capacity())
          cycles.push_back(static_cast<uint32_t>((rte_rdtsc() - start) / done));
        n += done;
        rte_rcu_qsbr_quiescent(rcu.q, t);
      }
      rte_rcu_qsbr_thread_offline(rcu.q, t);
      ops[t] = n;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  uint64_t total = 0;
  std::vector<uint32_t> all;
  for (uint32_t t = 0; t < threads; ++t) {
    pool[t].join();
    total += ops[t];
    all.insert(all.end(), burst_cycles[t].begin(), burst_cycles[t].end());
  }
  std::nth_element(all.begin(), all.begin() + all.size() / 2, all.end());
  std::printf("%-30s threads %u  %7.2f Mops/s  %7.2f Mops/s/thread  median %4u cycles/op\n", name,
              threads, total / seconds / 1e6, total / seconds / 1e6 / threads,
              all.empty() ? 0u : all[all.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  uint32_t connections = 16384;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::stod(argv[i + 1]);
    if (std::strcmp(argv[i], "--connections") == 0)
      connections = static_cast<uint32_t>(std::stoul(argv[i + 1]));
  }
  if (connections == 0 || connections > 1u << 20 || seconds <= 0) {
    std::fprintf(stderr, "usage: %s [--seconds S] [--connections 1..1048576]\n", argv[0]);
    return 2;
  }
  // No EAL here, so no rte_get_tsc_hz(): the TSC measured against the clock for 100 ms.
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t c0 = rte_rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto hz = static_cast<uint64_t>((rte_rdtsc() - c0) / elapsed);
  Rcu rcu(kWorkers);
  ConnTable table(2 * connections, kWorkers, hz, rcu.q);
  std::vector<ConnTrack> views;
  for (uint32_t w = 0; w < kWorkers; ++w) views.emplace_back(table, w);
  // Established connections, half created by each worker.
  for (uint32_t i = 0; i < connections; ++i) {
    const ConnTuple t = flow(i);
    if (views[i % kWorkers].create(t, podvs::reversed(t), podvs::NatSpec{}, rte_rdtsc()) == nullptr)
      return std::fprintf(stderr, "cannot create connection %u\n", i), 1;
  }
  std::printf("%u connections, %.1f s per case, TSC %.2f GHz\n", connections, seconds, hz / 1e9);

  // A burst of lookups + updates, as the tracked stage does per packet.
  const auto lookups = [&](uint32_t t, uint64_t n, bool reply, uint32_t stride_from) {
    ConnTrack& view = views[t];
    const uint64_t now = rte_rdtsc();
    for (int k = 0; k < kBurst; ++k) {
      const uint32_t i = static_cast<uint32_t>((n + k) * 7919 + stride_from) % connections;
      const ConnTuple tuple = reply ? podvs::reversed(flow(i)) : flow(i);
      const podvs::ConnLookup found = view.lookup(tuple, now);
      if (found.entry == nullptr) std::abort();
      view.update(found.entry, found.dir, 0, now);
    }
    return uint64_t{kBurst};
  };
  // Once 1, 2 and 1 thread again: the first run also warms the table into the caches.
  for (uint32_t threads : {1u, 2u, 1u})
    run("established: lookup + update", threads, seconds, rcu,
        [&](uint32_t t, uint64_t n) { return lookups(t, n, false, t * 104729); });
  run("established: both directions", 2, seconds, rcu,
      [&](uint32_t t, uint64_t n) { return lookups(t, n, t == 1, 0); });

  // New connections: each thread creates and removes its own (ports above the established ones).
  for (uint32_t threads = 1; threads <= kWorkers; ++threads)
    run("new: create + remove", threads, seconds, rcu, [&](uint32_t t, uint64_t n) {
      ConnTrack& view = views[t];
      const uint64_t now = rte_rdtsc();
      for (int k = 0; k < kBurst; ++k) {
        const ConnTuple tuple = flow(connections + t * (1u << 20) + (n + k) % (1u << 20));
        podvs::ConnEntry* e = view.create(tuple, podvs::reversed(tuple), podvs::NatSpec{}, now);
        if (e != nullptr) view.remove(e);
      }
      view.expire(now, kBurst);  // takes the removed entries back after their grace period
      return uint64_t{kBurst};
    });
  return 0;
}
