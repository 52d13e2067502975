// The data path of one worker for one received burst, run to completion:
//   parse → VXLAN decap (uplink) → ARP responder | (gateway/VTEP MAC check → anti-spoof → flow
//   cache / route lookup, Service or tracked connection (service_lb: balance, conntrack NAT) or
//   masquerade → overlay MTU → TTL + L2 rewrite → VXLAN encap) → per-output-port tx buffer.
// Every packet ends in a tx buffer or in drop() (drop.h), which counts it under a reason on its
// ingress port; a tx buffer whose port's queue is full drops the rest on that output port. Where
// a packet goes after the route lookup is its ForwardAction's NextStage. The caller flushes the
// tx buffers once per poll-loop iteration.
#pragma once

#include <rte_mbuf.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>

#include "vswitch/conn_state.h"
#include "vswitch/drop.h"
#include "vswitch/flow_cache.h"
#include "vswitch/forwarding_table.h"
#include "vswitch/l3_forward.h"
#include "vswitch/packet_parse.h"
#include "vswitch/tx_buffers.h"
#include "vswitch/worker_counters.h"

namespace podvs {

// Packets between a worker and the control thread (uplink ARP up, ARP requests down). Single
// producer, single consumer; a full queue means the packet is dropped and counted.
using MbufQueue = boost::lockfree::spsc_queue<rte_mbuf*, boost::lockfree::capacity<256>>;

struct BurstContext {
  const ForwardingTable& table;
  FlowCache& cache;
  TxBuffers& tx;
  WorkerCounters& counters;
  uint16_t worker_index;
  MbufQueue* punt = nullptr;  // to the control thread (uplink ARP)
  ConnState* conn = nullptr;  // the worker's conntrack; null: no masquerade, no Services
  uint64_t now = 0;           // TSC at the start of the burst (conntrack ages by it)
};

// Queues `m` on `port`'s tx buffer, flushing it when full.
inline void queue_tx(rte_mbuf* m, PortId port, BurstContext& ctx) {
  if (ctx.tx.push(port, m)) ctx.tx.flush_port(port, ctx.table, ctx.worker_index, ctx.counters);
}

// send() for a packet carrying offload work the port will not do: done in software first.
void send_offloads_done(rte_mbuf* m, PortId port, BurstContext& ctx);

// Queues `m` on `port`, segmenting it or completing its checksum first where the port would not.
inline void send(rte_mbuf* m, PortId port, BurstContext& ctx) {
  if (carries_offload_work(m) && needs_software_offload(m, port_offloads(ctx.table.port(port).io)))
      [[unlikely]]
    return send_offloads_done(m, port, ctx);
  queue_tx(m, port, ctx);
}

// deliver_local() up to the transmit: TTL and MACs. False when the packet was dropped (its TTL
// ran out); the pipeline's staged path transmits the rest itself (pipeline.cc).
inline bool rewrite_for_local(rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action,
                              PortId in_port, BurstContext& ctx) {
  if (!decrement_ttl(p.ip)) [[unlikely]] {
    drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
    return false;
  }
  rewrite_l2(p.eth, ctx.table.gateway_mac(), action);
  return true;
}

// deliver()'s case for a local port (a pod or the host): TTL, MACs, transmit. Inline because
// nearly every packet of the pod-to-pod path takes it: as part of the out-of-line deliver() it
// cost a call per packet.
inline void deliver_local(rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action,
                          PortId in_port, BurstContext& ctx) {
  if (rewrite_for_local(m, p, action, in_port, ctx)) send(m, action.out_port, ctx);
}

void process_burst(PortId in_port, rte_mbuf** pkts, uint16_t count, BurstContext& ctx);

}  // namespace podvs
