// The transmit loop: builds bursts of stamped frames round-robin over the flows and sends them on
// the tx port, paced or as fast as the queue takes them. Frames the queue refuses stay pending and
// go first next time, so a full ring delays packets but never loses sequence numbers. Owned by one
// lcore; its counters are read after that lcore has finished.
//
// With --vxlan-tx every frame gets the run's outer headers in front, with its flow's UDP source
// port. With --new-flows `flows` holds the one template of the first tuple and every frame is
// rewritten to the next unsent tuple (new_flows.h); sending ends when none is left. Frames injected
// through a ring (ARP replies from the receive loop, see rx_loop.h) are sent before each new burst
// and not counted.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <vector>

#include "perf/pktgen/frame.h"
#include "perf/pktgen/new_flows.h"
#include "perf/pktgen/pacer.h"
#include "perf/pktgen/vxlan.h"

namespace podvs::pktgen {

inline constexpr uint16_t kBurst = 32;

struct TxPhases {
  uint64_t start_tsc = 0;    // warm-up begins
  uint64_t measure_tsc = 0;  // measurement begins
  uint64_t end_tsc = 0;      // sending ends
};

struct TxCounters {
  uint64_t warmup = 0;          // sent during warm-up
  uint64_t measured = 0;        // sent during the measurement
  uint64_t measured_bytes = 0;  // without FCS
  uint64_t alloc_failures = 0;  // bursts skipped because the mempool was empty
  uint64_t queue_full = 0;      // polls that could not send everything pending
  uint64_t first_measured_tsc = 0;
  uint64_t last_tsc = 0;             // when sending stopped
  bool new_flows_exhausted = false;  // --new-flows: sending stopped because every tuple was sent
};

// The outer headers of --vxlan-tx: one template, one UDP source port per flow (host order).
struct VxlanTx {
  VxlanOuter outer{};
  std::vector<uint16_t> source_ports;
};

class TxLoop {
 public:
  // `vxlan`, `injected` and `new_flows` may be null; all must outlive the loop.
  TxLoop(uint16_t port, rte_mempool* pool, std::vector<FlowTemplate>& flows, const FrameSpec& spec,
         const TxPhases& phases, double pkts_per_cycle, const VxlanTx* vxlan = nullptr,
         rte_ring* injected = nullptr, NewFlows* new_flows = nullptr);
  TxLoop(const TxLoop&) = delete;
  TxLoop& operator=(const TxLoop&) = delete;
  ~TxLoop();

  // One step. Returns false once sending time is over (or `stop`) and nothing is pending.
  // `progress` tells whether any packet left, so a loop sharing its CPU knows when to yield.
  bool poll(uint64_t now, bool stop, bool& progress);

  const TxCounters& counters() const { return counters_; }

 private:
  void send_pending(bool& progress);
  void send_injected();

  uint16_t port_;
  rte_mempool* pool_;
  std::vector<FlowTemplate>& flows_;
  L4 proto_;
  uint16_t frame_len_;  // on the wire, without FCS: with the outer headers under --vxlan-tx
  const VxlanTx* vxlan_;
  rte_ring* injected_;
  NewFlows* new_flows_;
  TxPhases phases_;
  Pacer pacer_;
  uint32_t next_flow_ = 0;
  rte_mbuf* pending_[kBurst];
  uint16_t pending_head_ = 0;
  uint16_t pending_count_ = 0;
  bool pending_measured_ = false;
  TxCounters counters_;
};

// Zero-fills the first `frame_len` bytes of every mbuf in a tx pool once, so frames only need their
// headers and stamp written per packet (the checksums count the zero tail).
void zero_fill_pool(rte_mempool* pool, uint16_t frame_len);

}  // namespace podvs::pktgen
