#include "vswitch/pipeline.h"

#include <rte_prefetch.h>

#include "overlay/vxlan_decap.h"
#include "vswitch/anti_spoof.h"
#include "vswitch/arp_responder.h"
#include "vswitch/deliver.h"
#include "vswitch/nat/nat_rewrite.h"
#include "vswitch/packet_parse.h"
#include "vswitch/services/service_lb.h"

namespace podvs {
namespace {

// Far enough ahead that the header is in L1 when its turn comes, near enough not to evict.
constexpr uint16_t kPrefetchAhead = 4;

struct CacheStats {
  uint64_t hits = 0, misses = 0;
};

// Source checks: a pod port must carry the pod's addresses; a decapsulated packet comes from a
// remote node's pod and so never from an address of our own pod CIDR.
bool source_ok(const ParsedPacket& p, PortId in_port, bool decapped, const ForwardingTable& t) {
  if (decapped) return !t.in_pod_cidr(p.key.src_ip);
  return source_allowed(t.port(in_port), p.eth, p.ip);
}

// The packets of a burst that took the common path (a local port, no offload work), in order,
// with their output ports: handed to the tx buffers a run of one port at a time. A packet that
// takes any other path is sent (or dropped) at once, after the ones staged before it have been
// handed over, so the order on every port is the order of the burst.
struct StagedTx {
  rte_mbuf* pkts[kBurstSize];
  PortId ports[kBurstSize];
  uint16_t count = 0;

  void add(rte_mbuf* m, PortId port) {
    pkts[count] = m;
    ports[count] = port;
    ++count;
  }

  void hand_over(BurstContext& ctx) {
    for (uint16_t i = 0; i < count;) {
      uint16_t j = i + 1;
      while (j < count && ports[j] == ports[i]) ++j;
      ctx.tx.push_run(ports[i], pkts + i, j - i, ctx.table, ctx.worker_index, ctx.counters);
      i = j;
    }
    count = 0;
  }
};

void forward_ipv4(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port, bool decapped,
                  BurstContext& ctx, CacheStats& stats, StagedTx& staged) {
  const ForwardingTable& table = ctx.table;
  const rte_ether_addr& expected_dst = decapped ? table.overlay().vtep_mac : table.gateway_mac();
  if (!rte_is_same_ether_addr(&p.eth->dst_addr, &expected_dst))
    return drop(m, in_port, DropReason::l2_dst_not_gateway, ctx.counters);
  if (!source_ok(p, in_port, decapped, table))
    return drop(m, in_port, DropReason::spoofed_source, ctx.counters);

  // An ICMP error belongs to the connection it quotes, which its own flow does not tell.
  if (ctx.conn != nullptr && p.key.proto == IPPROTO_ICMP && is_icmp_error_packet(p.ip)) {
    staged.hand_over(ctx);
    return tracked_forward(m, p, hash, in_port, decapped, ctx);
  }
  // A hit is used in place: a copy of the cached entry to the stack, read back at other widths
  // (the MAC), stalled on store forwarding and held a sixth of process_burst's samples. Nothing
  // below writes to the cache before the action is used (only service_forward inserts, and it
  // never reads `action`).
  const ForwardAction* cached = ctx.cache.lookup(p.key, hash);
  ForwardAction fresh;
  if (cached != nullptr) [[likely]] {
    ++stats.hits;
  } else {
    fresh = table.route(p.key.dst_ip, in_port);
    // From the overlay only to this node's pod CIDR: a remote node never uses us as a router.
    if (decapped && !table.in_pod_cidr(p.key.dst_ip)) fresh = ForwardAction{};
    fresh = classify_service(p, decapped, fresh, ctx);
    ctx.cache.insert(p.key, hash, fresh);
    ++stats.misses;
  }
  const ForwardAction& action = cached != nullptr ? *cached : fresh;
  if (action.next == NextStage::local && !carries_offload_work(m)) [[likely]] {
    // deliver_local() without the transmit: staged for the burst's hand-over.
    if (rewrite_for_local(m, p, action, in_port, ctx)) staged.add(m, action.out_port);
    return;
  }
  staged.hand_over(ctx);
  switch (action.next) {
    case NextStage::service:
      return service_forward(m, p, hash, in_port, ctx);
    case NextStage::tracked:
      return tracked_forward(m, p, hash, in_port, decapped, ctx);
    case NextStage::local:
      return deliver_local(m, p, action, in_port, ctx);
    case NextStage::no_route:
    case NextStage::remote_node:
    case NextStage::masquerade:
      return deliver(m, p, action, hash, in_port, ctx);
  }
}

// Uplink ARP goes to the control thread's neighbour table; a full queue drops it (counted).
void punt(rte_mbuf* m, PortId in_port, BurstContext& ctx) {
  if (ctx.punt == nullptr || !ctx.punt->push(m))
    return drop(m, in_port, DropReason::punt_queue_full, ctx.counters);
  ctx.counters.ports[in_port].punted.add(1);
}

// What an IPv4 packet received on the uplink is.
enum class UplinkKind : uint8_t {
  none,      // not from the uplink, or not IPv4
  decapped,  // was VXLAN for us: `p` now describes the inner frame
  plain,     // plain IPv4 (a masqueraded connection's reply, or nothing of ours)
};

// On the uplink only VXLAN for us, replies to masquerade and ARP are accepted; a VXLAN packet is
// replaced by its inner frame, parsed afresh.
UplinkKind decap_uplink(rte_mbuf* m, PortId in_port, ParsedPacket& p,
                        const ForwardingTable& table) {
  if (p.cls != PacketClass::ipv4) return UplinkKind::none;
  const OverlayState& overlay = table.overlay();
  const DecapResult d = vxlan_decap(m, VxlanDecapParams{overlay.vxlan, overlay.node_ip});
  if (d.kind == DecapResult::Kind::not_vxlan) return UplinkKind::plain;
  if (d.kind == DecapResult::Kind::rejected) {
    p.cls = PacketClass::drop;
    p.reason = d.reason;
    return UplinkKind::none;
  }
  p = ParsedPacket{};
  parse_packet_into(m, in_port, p);
  if (p.cls == PacketClass::arp) {
    // Flannel-style peers resolve the inner neighbours statically; ARP never crosses the tunnel.
    p.cls = PacketClass::drop;
    p.reason = DropReason::overlay_arp;
  }
  return p.cls == PacketClass::ipv4 ? UplinkKind::decapped : UplinkKind::none;
}

}  // namespace

void process_burst(PortId in_port, rte_mbuf** pkts, uint16_t count, BurstContext& ctx) {
  PortCounters& pc = ctx.counters.ports[in_port];
  uint64_t bytes = 0;
  // Connections other workers created since the last burst: their replies, maybe in this
  // burst, must not meet a plain decision cached before (tracked_flow_notices.h).
  if (ctx.conn != nullptr) {
    ForwardAction tracked;
    tracked.next = NextStage::tracked;
    ctx.conn->notices.take(
        ctx.conn->worker,
        [&](const FlowKey& key) { ctx.cache.replace(key, FlowCache::hash(key), tracked); },
        [&] { ctx.cache.forget_all(); });
  }
  for (uint16_t i = 0; i < count && i < kPrefetchAhead; ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));

  // Stage 1 over the whole burst: parse, hash, and prefetch the flow cache set, so that the
  // cache lines of all 32 lookups are in flight together instead of one miss after another
  // (with many flows the cache does not fit in L1).
  ParsedPacket parsed[kBurstSize];
  uint32_t hashes[kBurstSize];
  UplinkKind kind[kBurstSize] = {};
  const bool uplink = in_port == ctx.table.uplink_port();
  for (uint16_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count)
      rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    bytes += rte_pktmbuf_pkt_len(pkts[i]);
    parse_packet_into(pkts[i], in_port, parsed[i]);
    if (uplink) kind[i] = decap_uplink(pkts[i], in_port, parsed[i], ctx.table);
    if (parsed[i].cls == PacketClass::ipv4) {
      hashes[i] = FlowCache::hash(parsed[i].key);
      ctx.cache.prefetch(hashes[i]);
    }
  }

  // Stage 2: decide and act, packet by packet; the common case is staged and handed to the tx
  // buffers at the end (StagedTx).
  CacheStats stats;
  StagedTx staged;
  for (uint16_t i = 0; i < count; ++i) {
    rte_mbuf* m = pkts[i];
    const ParsedPacket& p = parsed[i];
    switch (p.cls) {
      case PacketClass::ipv4:
        if (kind[i] == UplinkKind::plain) {
          staged.hand_over(ctx);
          service_uplink(m, p, hashes[i], in_port, ctx);
        } else {
          forward_ipv4(m, p, hashes[i], in_port, kind[i] == UplinkKind::decapped, ctx, stats,
                       staged);
        }
        break;
      case PacketClass::arp: {
        staged.hand_over(ctx);
        const ArpVerdict v = arp_respond(p.eth, p.arp, in_port, ctx.table);
        if (v.reply)
          send(m, in_port, ctx);
        else if (v.punt)
          punt(m, in_port, ctx);
        else
          drop(m, in_port, v.reason, ctx.counters);
        break;
      }
      case PacketClass::drop:
        drop(m, in_port, p.reason, ctx.counters);
        break;
    }
  }
  staged.hand_over(ctx);
  pc.rx_packets.add(count);
  pc.rx_bytes.add(bytes);
  ctx.counters.flow_cache_hits.add(stats.hits);
  ctx.counters.flow_cache_misses.add(stats.misses);
}

}  // namespace podvs
