#include "vswitch/nat/masquerade.h"

#include "vswitch/l3_forward.h"
#include "vswitch/nat/nat_rewrite.h"
#include "vswitch/pipeline.h"

namespace podvs {

void masquerade_out(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx) {
  const OverlayState& overlay = ctx.table.overlay();
  if (!overlay.gateway_resolved)
    return drop(m, in_port, DropReason::neighbour_unresolved, ctx.counters);
  ConnState& conn = *ctx.conn;
  if (is_icmp_error_packet(p.ip)) {
    // An error a pod sends about a connection it received through masquerade (a reply's path).
    auto inner = icmp_error_inner_tuple(m, p.ip);
    ConnLookup found = inner ? conn.conntrack.lookup(*inner, ctx.now) : ConnLookup{};
    if (found.entry == nullptr || !decrement_ttl(p.ip) ||
        !nat_translate_icmp_error(m, p.ip, *found.entry, found.dir))
      return drop(m, in_port, DropReason::masquerade_unsupported, ctx.counters);
  } else {
    const auto tuple = packet_tuple(p.ip);
    if (!tuple) return drop(m, in_port, DropReason::masquerade_unsupported, ctx.counters);
    ConnLookup found = conn.conntrack.lookup(*tuple, ctx.now);
    if (found.entry == nullptr) {
      const auto nat = conn.ports.pick(conn.conntrack, *tuple, overlay.node_ip, ctx.now);
      if (!nat) return drop(m, in_port, DropReason::snat_ports_exhausted, ctx.counters);
      found.entry = conn.conntrack.create(*tuple, nat_reply_tuple(*tuple, *nat), *nat, ctx.now);
      if (found.entry == nullptr) return drop(m, in_port, DropReason::conntrack_full, ctx.counters);
      found.dir = ConnDir::original;
      ctx.counters.conntrack_created.add(1);
    }
    if (!decrement_ttl(p.ip)) return drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
    conn.conntrack.update(found.entry, found.dir, tcp_flags_of(p.ip), ctx.now);
    nat_translate(p.ip, *found.entry, found.dir, l4_checksum_of(m));
  }
  p.eth->dst_addr = overlay.gateway_mac;
  p.eth->src_addr = overlay.vtep_mac;
  send(m, overlay.uplink_port, ctx);
}

void masquerade_in(rte_mbuf* m, const ParsedPacket& p, PortId in_port, BurstContext& ctx) {
  const ForwardingTable& table = ctx.table;
  if (ctx.conn == nullptr || !table.overlay().masquerade)
    return drop(m, in_port, DropReason::uplink_not_overlay, ctx.counters);
  ConnTrack& conntrack = ctx.conn->conntrack;
  const bool error = is_icmp_error_packet(p.ip);
  const auto tuple = error ? icmp_error_inner_tuple(m, p.ip) : packet_tuple(p.ip);
  // For an error, icmp_error_inner_tuple() already gives the quoted connection the way the error
  // travels: like a reply.
  ConnLookup found = tuple ? conntrack.lookup(*tuple, ctx.now) : ConnLookup{};
  if (found.entry == nullptr || found.dir != ConnDir::reply)
    return drop(m, in_port, DropReason::uplink_not_overlay, ctx.counters);
  if (!decrement_ttl(p.ip)) return drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
  if (error) {
    if (!nat_translate_icmp_error(m, p.ip, *found.entry, ConnDir::reply))
      return drop(m, in_port, DropReason::masquerade_unsupported, ctx.counters);
  } else {
    conntrack.update(found.entry, ConnDir::reply, tcp_flags_of(p.ip), ctx.now);
    nat_translate(p.ip, *found.entry, ConnDir::reply, l4_checksum_of(m));
  }
  const ForwardAction action = table.route(p.ip->dst_addr, in_port);
  if (action.next != NextStage::local || !table.in_pod_cidr(p.ip->dst_addr))
    return drop(m, in_port, DropReason::no_route, ctx.counters);
  rewrite_l2(p.eth, table.gateway_mac(), action);
  send(m, action.out_port, ctx);
}

}  // namespace podvs
