#include "vswitch/pipeline.h"

#include <rte_prefetch.h>

#include "vswitch/anti_spoof.h"
#include "vswitch/arp_responder.h"
#include "vswitch/l3_forward.h"
#include "vswitch/packet_parse.h"

namespace podvs {
namespace {

// Far enough ahead that the header is in L1 when its turn comes, near enough not to evict.
constexpr uint16_t kPrefetchAhead = 4;

void output(rte_mbuf* m, uint16_t port, BurstContext& ctx) {
  if (ctx.tx.push(port, m)) ctx.tx.flush_port(port, ctx.table, ctx.worker_index, ctx.counters);
}

struct CacheStats {
  uint64_t hits = 0, misses = 0;
};

void forward_ipv4(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, uint16_t in_port,
                  BurstContext& ctx, CacheStats& stats) {
  const ForwardingTable& table = ctx.table;
  if (!rte_is_same_ether_addr(&p.eth->dst_addr, &table.gateway_mac()))
    return drop(m, in_port, DropReason::l2_dst_not_gateway, ctx.counters);
  if (!source_allowed(table.port(in_port), p.eth, p.ip))
    return drop(m, in_port, DropReason::spoofed_source, ctx.counters);

  ForwardAction action;
  if (const ForwardAction* cached = ctx.cache.lookup(p.key, hash)) {
    action = *cached;
    ++stats.hits;
  } else {
    action = table.route(p.key.dst_ip, in_port);
    ctx.cache.insert(p.key, hash, action);
    ++stats.misses;
  }
  if (action.out_port == kNoPort) return drop(m, in_port, DropReason::no_route, ctx.counters);
  if (!decrement_ttl(p.ip)) return drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
  rewrite_l2(p.eth, table.gateway_mac(), action);
  output(m, action.out_port, ctx);
}

}  // namespace

void process_burst(uint16_t in_port, rte_mbuf** pkts, uint16_t count, BurstContext& ctx) {
  PortCounters& pc = ctx.counters.ports[in_port];
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < count && i < kPrefetchAhead; ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));

  // Stage 1 over the whole burst: parse, hash, and prefetch the flow cache set, so that the
  // cache lines of all 32 lookups are in flight together instead of one miss after another
  // (with many flows the cache does not fit in L1).
  ParsedPacket parsed[kBurstSize];
  uint32_t hashes[kBurstSize];
  for (uint16_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count)
      rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    bytes += rte_pktmbuf_pkt_len(pkts[i]);
    parsed[i] = parse_packet(pkts[i], in_port);
    if (parsed[i].cls == PacketClass::ipv4) {
      hashes[i] = FlowCache::hash(parsed[i].key);
      ctx.cache.prefetch(hashes[i]);
    }
  }

  // Stage 2: decide and act, packet by packet.
  CacheStats stats;
  for (uint16_t i = 0; i < count; ++i) {
    rte_mbuf* m = pkts[i];
    const ParsedPacket& p = parsed[i];
    switch (p.cls) {
      case PacketClass::ipv4:
        forward_ipv4(m, p, hashes[i], in_port, ctx, stats);
        break;
      case PacketClass::arp: {
        const ArpVerdict v = arp_respond(p.eth, p.arp, in_port, ctx.table);
        if (v.reply)
          output(m, in_port, ctx);
        else
          drop(m, in_port, v.reason, ctx.counters);
        break;
      }
      case PacketClass::drop:
        drop(m, in_port, p.reason, ctx.counters);
        break;
    }
  }
  pc.rx_packets.add(count);
  pc.rx_bytes.add(bytes);
  ctx.counters.flow_cache_hits.add(stats.hits);
  ctx.counters.flow_cache_misses.add(stats.misses);
}

}  // namespace podvs
