// Per-worker transmit buffers: packets are collected while a burst is processed and handed to
// the output port once per port per poll-loop iteration, so tx cost is amortised over up to 32
// packets. Owned by one worker; no sharing.
//
// Sparse: a worker holds buffers for the ports it sent to since its last flush_all (up to
// kTxSlots of them), not one per port of the capacity, so 1024 ports cost it a 1 KiB slot map
// and not 270 KiB of buffers. When every slot is taken, the next flush flushes them all.
#pragma once

#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "ports/port_id.h"
#include "vswitch/drop.h"
#include "vswitch/forwarding_table.h"
#include "vswitch/worker_counters.h"

namespace podvs {

inline constexpr uint16_t kBurstSize = 32;
// Distinct output ports one worker buffers between flushes: more than a burst of 32 packets can
// reach, so a single rx burst never forces an early flush.
inline constexpr uint16_t kTxSlots = 64;

class TxBuffers {
 public:
  explicit TxBuffers(uint16_t port_capacity = kDefaultPortCapacity)
      : slot_of_(port_capacity, kNoSlot) {}

  // Returns true when flush_port(port) must run before the next push: the port's buffer is full,
  // or this push took the last free slot.
  bool push(PortId port, rte_mbuf* m) {
    Buffer& b = buffer_of(port);
    b.pkts[b.count++] = m;
    return b.count == kBurstSize || used_ == kTxSlots;
  }

  // Queues `n` packets on `port` in order, flushing its buffer whenever it fills: a run of a
  // burst's packets to one port costs one slot lookup and one copy, not a push per packet.
  void push_run(PortId port, rte_mbuf* const* pkts, uint16_t n, const ForwardingTable& table,
                uint16_t worker_index, WorkerCounters& counters) {
    while (n > 0) {
      Buffer& b = buffer_of(port);
      const uint16_t k = std::min<uint16_t>(n, kBurstSize - b.count);
      __builtin_memcpy(&b.pkts[b.count], pkts, k * sizeof(rte_mbuf*));
      b.count += k;
      pkts += k;
      n -= k;
      if (b.count == kBurstSize || used_ == kTxSlots)
        flush_port(port, table, worker_index, counters);
    }
  }

  uint16_t pending(PortId port) const {
    return slot_of_[port] == kNoSlot ? 0 : slots_[slot_of_[port]].count;
  }
  rte_mbuf* const* packets(PortId port) const { return slots_[slot_of_[port]].pkts.data(); }

  // Transmits `port`'s buffer; when every slot is taken, flushes all of them (flush_all).
  void flush_port(PortId port, const ForwardingTable& table, uint16_t worker_index,
                  WorkerCounters& counters);
  void flush_all(const ForwardingTable& table, uint16_t worker_index, WorkerCounters& counters);

 private:
  static constexpr uint8_t kNoSlot = UINT8_MAX;
  static_assert(kTxSlots < kNoSlot);
  struct Buffer {
    PortId port = kNoPort;
    uint16_t count = 0;
    std::array<rte_mbuf*, kBurstSize> pkts;
  };
  void transmit(Buffer& b, const ForwardingTable& table, uint16_t worker_index,
                WorkerCounters& counters);
  // The port's buffer, taking a free slot for it if it has none.
  Buffer& buffer_of(PortId port) {
    uint8_t s = slot_of_[port];
    if (s == kNoSlot) {
      s = static_cast<uint8_t>(used_++);
      slot_of_[port] = s;
      slots_[s].port = port;
    }
    return slots_[s];
  }

  std::array<Buffer, kTxSlots> slots_{};  // slots_[0, used_) are taken
  uint16_t used_ = 0;
  std::vector<uint8_t> slot_of_;  // by PortId: its slot, or kNoSlot
};

}  // namespace podvs
