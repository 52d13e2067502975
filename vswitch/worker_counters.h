// Per-worker counters. Writer: the owning worker only. Readers: the control thread and the
// metrics exporter, which sum the copies of all workers.
//
// Each counter is a std::atomic used with relaxed loads and stores only, never read-modify-write:
// on x86 that compiles to the plain load/add/store a bare uint64_t would, so the fast path pays no
// lock prefix, while a concurrent reader still sees a whole (if slightly stale) value. Workers'
// blocks are cache-line aligned so two workers never share a line.
#pragma once

#include <rte_common.h>
#include <rte_config.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "base/drop_reason.h"
#include "ports/port_id.h"
#include "vswitch/drop_recorder.h"

namespace podvs {

class Counter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }  // a gauge
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct PortCounters {
  Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
  Counter rx_cycles;  // TSC cycles spent on bursts received from this port (rxq load)
  Counter punted;     // handed to the control thread (uplink ARP)
  std::array<Counter, kNumDropReasons> drops;
};

struct alignas(RTE_CACHE_LINE_SIZE) WorkerCounters {
  explicit WorkerCounters(uint16_t port_capacity = kDefaultPortCapacity) : ports(port_capacity) {}

  Counter rx_packets, tx_packets;
  Counter busy_cycles, idle_cycles;  // iterations that received something / nothing
  Counter flow_cache_hits, flow_cache_misses;
  Counter rx_bursts;         // non-empty bursts, for packets per burst
  Counter frag_needed_sent;  // too big for the overlay: answered with ICMP fragmentation needed
  Counter conntrack_created, conntrack_expired;  // masquerade and Service connections
  Counter conntrack_entries;                     // live, as of the last poll-loop iteration
  Counter affinity_full;  // a Service affinity could not be remembered (the table was full)
  std::vector<PortCounters> ports;  // by PortId, the port capacity of them; never resized
  DropRecorder recent_drops;
};

}  // namespace podvs
