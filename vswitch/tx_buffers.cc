#include "vswitch/tx_buffers.h"

#include <rte_spinlock.h>

namespace podvs {

void TxBuffers::transmit(uint16_t port, Buffer& b, const ForwardingTable& table,
                         uint16_t worker_index, WorkerCounters& counters) {
  const PortEntry& entry = table.port(port);
  const uint16_t queue = worker_index % entry.tx_queues;
  if (entry.tx_lock != nullptr) rte_spinlock_lock(entry.tx_lock);
  const uint16_t sent = rte_eth_tx_burst(port, queue, b.pkts.data(), b.count);
  if (entry.tx_lock != nullptr) rte_spinlock_unlock(entry.tx_lock);

  PortCounters& pc = counters.ports[port];
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < sent; ++i) bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
  pc.tx_packets.add(sent);
  pc.tx_bytes.add(bytes);
  counters.tx_packets.add(sent);
  // Counted on the output port: it is that port's queue that was full.
  if (sent < b.count)
    drop_burst(b.pkts.data() + sent, b.count - sent, port, DropReason::tx_queue_full, counters);
  b.count = 0;
}

void TxBuffers::flush_port(uint16_t port, const ForwardingTable& table, uint16_t worker_index,
                           WorkerCounters& counters) {
  // The port stays listed; flush_all skips it if nothing was pushed since.
  transmit(port, buffers_[port], table, worker_index, counters);
}

void TxBuffers::flush_all(const ForwardingTable& table, uint16_t worker_index,
                          WorkerCounters& counters) {
  for (uint16_t i = 0; i < dirty_count_; ++i) {
    Buffer& b = buffers_[dirty_[i]];
    b.listed = false;
    if (b.count != 0) transmit(dirty_[i], b, table, worker_index, counters);
  }
  dirty_count_ = 0;
}

}  // namespace podvs
