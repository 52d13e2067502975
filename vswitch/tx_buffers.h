// Per-worker, per-output-port transmit buffers: packets are collected while a burst is processed
// and handed to the driver once per port per burst, so tx cost is amortised over up to 32
// packets. Owned by one worker; no sharing.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "vswitch/drop.h"
#include "vswitch/forwarding_table.h"
#include "vswitch/worker_counters.h"

namespace podvs {

inline constexpr uint16_t kBurstSize = 32;

class TxBuffers {
 public:
  // Returns true when the port's buffer is now full and must be flushed before the next push.
  bool push(uint16_t port, rte_mbuf* m) {
    Buffer& b = buffers_[port];
    if (!b.listed) {
      b.listed = true;
      dirty_[dirty_count_++] = port;
    }
    b.pkts[b.count++] = m;
    return b.count == kBurstSize;
  }

  uint16_t pending(uint16_t port) const { return buffers_[port].count; }
  rte_mbuf* const* packets(uint16_t port) const { return buffers_[port].pkts.data(); }

  void flush_port(uint16_t port, const ForwardingTable& table, uint16_t worker_index,
                  WorkerCounters& counters);
  void flush_all(const ForwardingTable& table, uint16_t worker_index, WorkerCounters& counters);

 private:
  struct Buffer {
    uint16_t count = 0;
    bool listed = false;  // on dirty_ until the next flush_all
    std::array<rte_mbuf*, kBurstSize> pkts;
  };
  void transmit(uint16_t port, Buffer& b, const ForwardingTable& table, uint16_t worker_index,
                WorkerCounters& counters);

  std::array<Buffer, RTE_MAX_ETHPORTS> buffers_{};
  std::array<uint16_t, RTE_MAX_ETHPORTS> dirty_{};
  uint16_t dirty_count_ = 0;
};

}  // namespace podvs
