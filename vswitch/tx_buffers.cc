#include "vswitch/tx_buffers.h"

#include <rte_spinlock.h>

namespace podvs {

void TxBuffers::transmit(Buffer& b, const ForwardingTable& table, uint16_t worker_index,
                         WorkerCounters& counters) {
  const PortId port = b.port;
  const PortIo& io = table.port(port).io;
  const uint16_t queue = worker_index % io.tx_queues;
  // Bytes are summed before the burst: a packet handed over may be freed at once (port_io.h).
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < b.count; ++i) bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
  if (io.tx_lock != nullptr) rte_spinlock_lock(io.tx_lock);
  const uint16_t sent = port_tx_burst(io, queue, b.pkts.data(), b.count);
  if (io.tx_lock != nullptr) rte_spinlock_unlock(io.tx_lock);

  PortCounters& pc = counters.ports[port];
  for (uint16_t i = sent; i < b.count; ++i) bytes -= rte_pktmbuf_pkt_len(b.pkts[i]);
  pc.tx_packets.add(sent);
  pc.tx_bytes.add(bytes);
  counters.tx_packets.add(sent);
  // Counted on the output port: it is that port's queue that was full.
  if (sent < b.count)
    drop_burst(b.pkts.data() + sent, b.count - sent, port, DropReason::tx_queue_full, counters);
  b.count = 0;
}

void TxBuffers::flush_port(PortId port, const ForwardingTable& table, uint16_t worker_index,
                           WorkerCounters& counters) {
  if (used_ == kTxSlots) return flush_all(table, worker_index, counters);
  // The port keeps its slot; flush_all skips it if nothing was pushed since.
  transmit(slots_[slot_of_[port]], table, worker_index, counters);
}

void TxBuffers::flush_all(const ForwardingTable& table, uint16_t worker_index,
                          WorkerCounters& counters) {
  for (uint16_t s = 0; s < used_; ++s) {
    Buffer& b = slots_[s];
    slot_of_[b.port] = kNoSlot;
    if (b.count != 0) transmit(b, table, worker_index, counters);
  }
  used_ = 0;
}

}  // namespace podvs
