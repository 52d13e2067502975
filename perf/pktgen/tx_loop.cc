#include "perf/pktgen/tx_loop.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>

namespace podvs::pktgen {

TxLoop::TxLoop(uint16_t port, rte_mempool* pool, std::vector<FlowTemplate>& flows,
               const FrameSpec& spec, const TxPhases& phases, double pkts_per_cycle,
               const VxlanTx* vxlan, rte_ring* injected, NewFlows* new_flows)
    : port_(port),
      pool_(pool),
      flows_(flows),
      proto_(spec.proto),
      frame_len_(static_cast<uint16_t>(spec.frame_len + (vxlan != nullptr ? kVxlanOuterLen : 0))),
      vxlan_(vxlan),
      injected_(injected),
      new_flows_(new_flows),
      phases_(phases),
      pacer_(pkts_per_cycle, phases.start_tsc) {}

TxLoop::~TxLoop() {
  if (pending_count_ > 0) rte_pktmbuf_free_bulk(pending_ + pending_head_, pending_count_);
}

void TxLoop::send_pending(bool& progress) {
  const uint16_t sent = rte_eth_tx_burst(port_, 0, pending_ + pending_head_, pending_count_);
  pending_head_ += sent;
  pending_count_ -= sent;
  if (sent > 0) progress = true;
  if (pending_count_ > 0) ++counters_.queue_full;
  if (pending_measured_) {
    counters_.measured += sent;
    counters_.measured_bytes += uint64_t{sent} * frame_len_;
  } else {
    counters_.warmup += sent;
  }
}

void TxLoop::send_injected() {
  rte_mbuf* pkts[8];
  const unsigned n =
      rte_ring_sc_dequeue_burst(injected_, reinterpret_cast<void**>(pkts), 8, nullptr);
  if (n == 0) return;
  const uint16_t sent = rte_eth_tx_burst(port_, 0, pkts, static_cast<uint16_t>(n));
  if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

bool TxLoop::poll(uint64_t now, bool stop, bool& progress) {
  progress = false;
  if (injected_ != nullptr) send_injected();
  if (pending_count_ > 0) {
    send_pending(progress);
    if (pending_count_ > 0) return true;
  }
  const bool exhausted = new_flows_ != nullptr && new_flows_->remaining() == 0;
  if (stop || exhausted || now >= phases_.end_tsc) {
    if (counters_.last_tsc == 0) counters_.last_tsc = now;
    counters_.new_flows_exhausted = exhausted;
    return false;
  }
  uint32_t n = pacer_.allowance(now, kBurst);
  if (new_flows_ != nullptr) n = std::min(n, new_flows_->remaining());
  if (n == 0) return true;
  if (rte_pktmbuf_alloc_bulk(pool_, pending_, n) != 0) {
    ++counters_.alloc_failures;
    return true;
  }
  pending_measured_ = now >= phases_.measure_tsc;
  if (pending_measured_ && counters_.first_measured_tsc == 0) counters_.first_measured_tsc = now;
  const uint32_t magic = pending_measured_ ? kMagicMeasured : kMagicWarmup;
  const auto tsc = static_cast<uint32_t>(now);  // one timestamp per burst
  const auto flow_count = static_cast<uint32_t>(flows_.size());
  for (uint32_t i = 0; i < n; ++i) {
    FlowTemplate& flow = flows_[next_flow_];
    rte_mbuf* m = pending_[i];
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    if (vxlan_ != nullptr) {
      std::memcpy(frame, vxlan_->outer.data(), kVxlanOuterLen);
      set_vxlan_source_port(frame, vxlan_->source_ports[next_flow_]);
      frame += kVxlanOuterLen;
    }
    write_frame(frame, flow, proto_, magic, flow.next_seq++, tsc);
    if (new_flows_ != nullptr) new_flows_->next(frame);
    m->data_len = frame_len_;
    m->pkt_len = frame_len_;
    if (++next_flow_ == flow_count) next_flow_ = 0;
  }
  pacer_.issued(n);
  pending_head_ = 0;
  pending_count_ = static_cast<uint16_t>(n);
  send_pending(progress);
  return true;
}

void zero_fill_pool(rte_mempool* pool, uint16_t frame_len) {
  rte_mempool_obj_iter(
      pool,
      [](rte_mempool*, void* arg, void* obj, unsigned) {
        auto* m = static_cast<rte_mbuf*>(obj);
        std::memset(rte_pktmbuf_mtod(m, uint8_t*), 0, *static_cast<uint16_t*>(arg));
      },
      &frame_len);
}

}  // namespace podvs::pktgen
