#include "vswitch/deliver.h"

#include "base/ipv4_header.h"
#include "offload/tcp_segmentation.h"
#include "overlay/vxlan_encap.h"
#include "vswitch/icmp_error.h"
#include "vswitch/l3_forward.h"
#include "vswitch/nat/masquerade.h"
#include "vswitch/pipeline.h"

namespace podvs {

// A super-frame is measured by the segments it will be cut into, not by its own length.
uint32_t inner_ip_len(const rte_mbuf* m, const ParsedPacket& p) {
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) return m->l3_len + m->l4_len + m->tso_segsz;
  return rte_be_to_cpu_16(p.ip->total_length);
}

bool too_big_for_overlay(const rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action,
                         const ForwardingTable& table) {
  return action.next == NextStage::remote_node &&
         inner_ip_len(m, p) > table.overlay().max_inner_ip_len;
}

void send_offloads_done(rte_mbuf* m, uint16_t port, BurstContext& ctx) {
  rte_mbuf* out[kMaxGsoSegments];
  const uint16_t n = finish_offloads(m, out, kMaxGsoSegments);
  if (n == 0) return drop(m, port, DropReason::gso_failed, ctx.counters);
  for (uint16_t i = 0; i < n; ++i) queue_tx(out[i], port, ctx);
}

// RFC 1191: with DF its sender gets "fragmentation needed" so its path MTU drops. The error comes
// from the address the sender knows us by: the pods' gateway, or on the underlay the node IP.
void refuse_too_big(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx) {
  const ForwardingTable& t = ctx.table;
  const bool underlay = in_port == t.uplink_port();
  if (ipv4_dont_fragment(p.ip) &&
      make_frag_needed(m, t.overlay().max_inner_ip_len,
                       underlay ? t.overlay().node_ip : t.gateway_ip(),
                       underlay ? t.overlay().vtep_mac : t.gateway_mac())) {
    ctx.counters.frag_needed_sent.add(1);
    return send(m, in_port, ctx);
  }
  drop(m, in_port, DropReason::too_big_for_overlay, ctx.counters);
}

// Wraps a frame whose offload work is done for `remote` and queues it on the uplink: an
// encapsulated packet carries no offload flags, so it needs no check of what the port finishes.
inline void encap_and_queue(rte_mbuf* m, const RemoteNode& remote, uint32_t hash, bool udp_checksum,
                            PortId uplink, PortId in_port, BurstContext& ctx) {
  if (!vxlan_encap(m, remote.outer, hash, udp_checksum))
    return drop(m, in_port, DropReason::encap_failed, ctx.counters);
  queue_tx(m, uplink, ctx);
}

void deliver(rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action, uint32_t hash,
             PortId in_port, BurstContext& ctx) {
  const ForwardingTable& table = ctx.table;
  if (action.next == NextStage::local) return deliver_local(m, p, action, in_port, ctx);
  if (action.next == NextStage::masquerade) return masquerade_out(m, p, in_port, ctx);
  // no_route; service and tracked never come here (the pipeline hands those to service_lb,
  // which delivers what it translated by a plain route).
  if (action.next != NextStage::remote_node)
    return drop(m, in_port, DropReason::no_route, ctx.counters);

  const RemoteNode& remote = table.remote(action.remote);
  if (!remote.resolved) return drop(m, in_port, DropReason::neighbour_unresolved, ctx.counters);
  if (too_big_for_overlay(m, p, action, table)) return refuse_too_big(m, p, in_port, ctx);
  if (!decrement_ttl(p.ip)) return drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
  rewrite_l2(p.eth, table.overlay().vtep_mac, action);
  const bool udp_checksum = table.overlay().vxlan.udp_checksum;
  // The common packet carries no offload work: wrapped and queued as it is, without the
  // segmentation call, its array and the output port's offload check (about 5 cycles a packet
  // in perf/stage_bench's encap pipeline).
  if (!carries_offload_work(m)) [[likely]]
    return encap_and_queue(m, remote, hash, udp_checksum, action.out_port, in_port, ctx);
  // The inner frame becomes the tunnel's payload: its segments and checksum must be final before
  // it is wrapped (the uplinks podvs drives offer no tunnel offloads).
  rte_mbuf* inner[kMaxGsoSegments];
  const uint16_t n = finish_offloads(m, inner, kMaxGsoSegments);
  if (n == 0) return drop(m, in_port, DropReason::gso_failed, ctx.counters);
  for (uint16_t i = 0; i < n; ++i)
    encap_and_queue(inner[i], remote, hash, udp_checksum, action.out_port, in_port, ctx);
}

}  // namespace podvs
