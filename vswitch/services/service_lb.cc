#include "vswitch/services/service_lb.h"

#include <netinet/in.h>

#include <optional>

#include "base/ipv4_header.h"
#include "vswitch/deliver.h"
#include "vswitch/icmp_error.h"
#include "vswitch/l3_forward.h"
#include "vswitch/nat/masquerade.h"
#include "vswitch/nat/nat_rewrite.h"
#include "vswitch/pipeline.h"
#include "vswitch/services/maglev.h"

namespace podvs {
namespace {

ForwardAction to_stage(NextStage next) {
  ForwardAction a;
  a.next = next;
  return a;
}

bool balanced_protocol(uint8_t proto) { return proto == IPPROTO_TCP || proto == IPPROTO_UDP; }

// The frontend a connection's original tuple addresses: a ClusterIP or external IP port, or a
// NodePort on one of this node's addresses.
const ServiceFrontend* frontend_of(const ConnTuple& t, const ForwardingTable& table) {
  const ServiceIndex& services = table.services();
  if (const ServiceFrontend* f = services.find(t.dst_ip, t.dst_port, t.proto)) return f;
  if (services.has_node_ports() && table.is_node_ip(t.dst_ip))
    return services.find_node_port(t.dst_port, t.proto);
  return nullptr;
}

// Any port of a ClusterIP comes here (a port the Service lacks is rejected, not routed away), an
// external IP's Service ports (its other ports are plain traffic: the address may serve more than
// Services), and a NodePort's port of a node address.
bool to_frontend(const FlowKey& k, const ForwardingTable& table) {
  const ServiceIndex& services = table.services();
  if (services.is_cluster_ip(k.dst_ip)) return true;
  if (services.has_external_ips() && services.find(k.dst_ip, k.dst_port, k.proto) != nullptr)
    return true;
  return services.has_node_ports() && table.is_node_ip(k.dst_ip) &&
         services.find_node_port(k.dst_port, k.proto) != nullptr;
}

// A Service connection whose endpoint has left its Service since is forgotten, so that its next
// packet is balanced afresh (a UDP client with a fixed source port reaches a live endpoint).
// Checked once per table version: the entry's cookie is the version it was last found valid in.
ConnLookup revalidated(ConnLookup found, const ForwardingTable& table, ConnTrack& conntrack) {
  ConnEntry* e = found.entry;
  // Only the client's side: what the old endpoint still sends is translated while the entry
  // lives, so its last answers are not delivered from an address the client never called.
  if (e == nullptr || !e->nat().dnat || found.dir != ConnDir::original) return found;
  const auto version = static_cast<uint32_t>(table.version());
  if (e->cookie() == version) return found;
  const ServiceFrontend* f = frontend_of(e->tuple(ConnDir::original), table);
  if (f == nullptr || f->find(e->nat().dst_addr, e->nat().dst_port) == nullptr) {
    conntrack.remove(e);
    return {};
  }
  e->set_cookie(version);
  return found;
}

ConnLookup find_connection(const ConnTuple& t, BurstContext& ctx) {
  ConnTrack& conntrack = ctx.conn->conntrack;
  return revalidated(conntrack.lookup(t, ctx.now), ctx.table, conntrack);
}

// ClientIP affinity first (while its endpoint may still take new connections), else Maglev.
const ServiceBackend* choose_backend(const ServiceFrontend& f, const ConnTuple& t, ConnState& conn,
                                     uint64_t now) {
  if (f.maglev.empty()) return nullptr;
  if (f.affinity)
    if (const auto a = conn.affinity.lookup(t.src_ip, f.affinity_id, now))
      if (const ServiceBackend* b = f.find(a->backend_ip(), a->backend_port()); b && b->eligible)
        return b;
  return &f.backends[f.maglev[maglev_flow_hash(t) % f.maglev.size()]];
}

// Like a REJECT rule: ICMP port unreachable from the address the client tried, so that a TCP
// connect() fails at once instead of timing out. The client's packet goes no further: it is
// counted as a drop under `reason` (and recorded as it came) before the error is made in its
// place.
void reject(rte_mbuf* m, const ParsedPacket& p, PortId in_port, DropReason reason,
            BurstContext& ctx) {
  const ForwardingTable& table = ctx.table;
  const rte_ether_addr& our_mac =
      in_port == table.uplink_port() ? table.overlay().vtep_mac : table.gateway_mac();
  count_drops(&m, 1, in_port, reason, ctx.counters);
  if (make_port_unreachable(m, p.ip->dst_addr, our_mac)) return send(m, in_port, ctx);
  rte_pktmbuf_free(m);  // counted above; no room for the error
}

// A translated packet on its way. One for a client outside the cluster (a NodePort's) goes
// straight to the underlay gateway: its translation is done, masquerade must not add its own.
void send_translated(rte_mbuf* m, const ParsedPacket& p, const ForwardAction& action, uint32_t hash,
                     PortId in_port, BurstContext& ctx) {
  if (action.next != NextStage::masquerade) return deliver(m, p, action, hash, in_port, ctx);
  const OverlayState& overlay = ctx.table.overlay();
  if (!overlay.gateway_resolved)
    return drop(m, in_port, DropReason::neighbour_unresolved, ctx.counters);
  if (!decrement_ttl(p.ip)) return drop(m, in_port, DropReason::ttl_exceeded, ctx.counters);
  p.eth->dst_addr = overlay.gateway_mac;
  p.eth->src_addr = overlay.vtep_mac;
  send(m, overlay.uplink_port, ctx);
}

ForwardAction to_underlay_gateway(const ForwardingTable& table) {
  ForwardAction a;
  a.next = NextStage::masquerade;
  a.out_port = table.uplink_port();
  return a;
}

// Whether `dst` (a reply's destination) is outside the cluster and not the node itself: a client
// that came in through the uplink.
bool outside_client(rte_be32_t dst, const ForwardingTable& table) {
  if (dst == table.host_ip()) return false;
  const ForwardAction plain = table.route(dst, kNoPort);
  return plain.next == NextStage::masquerade ||
         (plain.next == NextStage::local && plain.out_port == table.host_port());
}

// Whether a connection's original tuple addresses a frontend that clients outside the cluster
// use: a NodePort on the node IP, or an external IP.
bool reached_from_outside(const ConnTuple& original, const ForwardingTable& table) {
  if (original.dst_ip == table.overlay().node_ip) return true;
  if (!table.services().has_external_ips()) return false;
  const ServiceFrontend* f = frontend_of(original, table);
  return f != nullptr && f->external;
}

// Where a packet of the connection goes once translated. Routed as if from nowhere in particular:
// a NodePort connection arriving on the uplink may go on to a backend on another node.
ForwardAction route_translated(const ConnEntry& e, ConnDir dir, const ForwardingTable& table) {
  const rte_be32_t dst = reversed(e.tuple(opposite(dir))).dst_ip;
  const OverlayState& overlay = table.overlay();
  if (overlay.uplink_port != kNoPort) {
    // A client outside the cluster that came through the uplink to a NodePort or an external IP
    // is answered that way, whatever the plain route to its address says (the host port, when
    // masquerade is off or skips it).
    // Cheapest tests first: this runs for every reply packet of every Service connection.
    if (dir == ConnDir::reply && reached_from_outside(e.tuple(ConnDir::original), table) &&
        outside_client(dst, table))
      return to_underlay_gateway(table);
    // An endpoint on this node's own address (a host-network pod) is the node's stack.
    if (dst == overlay.node_ip) return table.route(table.host_ip(), kNoPort);
  }
  return table.route(dst, kNoPort);
}

// Whether `backend` is reached through the host port, i.e. is the node's own stack or what lies
// behind it: a host-network endpoint, an API server on one of the node's addresses.
bool via_host_port(rte_be32_t backend, const ForwardingTable& table) {
  const OverlayState& overlay = table.overlay();
  if (overlay.uplink_port != kNoPort && backend == overlay.node_ip) return true;
  const ForwardAction plain = table.route(backend, kNoPort);
  return plain.next == NextStage::local && plain.out_port == table.host_port();
}

void translate_and_send(rte_mbuf* m, const ParsedPacket& p, ConnEntry& e, ConnDir dir,
                        uint32_t hash, PortId in_port, BurstContext& ctx) {
  const ForwardAction action = route_translated(e, dir, ctx.table);
  // Before translating: "fragmentation needed" must quote what the sender sent.
  if (too_big_for_overlay(m, p, action, ctx.table)) return refuse_too_big(m, p, in_port, ctx);
  ctx.conn->conntrack.update(&e, dir, tcp_flags_of(p.ip), ctx.now);
  if (ipv4_is_first_fragment(p.ip)) {
    const ConnTuple out = reversed(e.tuple(opposite(dir)));
    ctx.conn->fragments.remember(p.ip, {out.src_ip, out.dst_ip}, ctx.now);
  }
  nat_translate(p.ip, e, dir, l4_checksum_of(m));
  send_translated(m, p, action, hash, in_port, ctx);
}

// A fragment after the first of a datagram whose first fragment was translated goes the same way;
// false, doing nothing, when there was none (or it was evicted).
bool translate_later_fragment(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                              BurstContext& ctx) {
  const auto to = ctx.conn->fragments.find(p.ip, ctx.now);
  if (!to) return false;
  const ForwardAction action = ctx.table.route(to->dst, kNoPort);
  if (too_big_for_overlay(m, p, action, ctx.table)) {
    refuse_too_big(m, p, in_port, ctx);
    return true;
  }
  rewrite_src(p.ip, to->src, 0, l4_checksum_of(m));
  rewrite_dst(p.ip, to->dst, 0, l4_checksum_of(m));
  send_translated(m, p, action, hash, in_port, ctx);
  return true;
}

// The plain decision for a packet that turned out not to belong to a tracked connection.
ForwardAction plain_route(const ParsedPacket& p, PortId in_port, bool decapped,
                          const ForwardingTable& table) {
  if (decapped && !table.in_pod_cidr(p.key.dst_ip)) return ForwardAction{};
  return table.route(p.key.dst_ip, in_port);
}

// The source a new connection to `b` takes, when the client's own would not do.
std::optional<rte_be32_t> snat_source(const ServiceFrontend& f, const ServiceBackend& b,
                                      const ConnTuple& t, PortId in_port,
                                      const ForwardingTable& table) {
  // Through the host port the node's stack would drop a packet whose source is one of its own
  // addresses (the node as client, or our host IP for a Cluster-policy NodePort or external IP)
  // as a martian, as Linux does without accept_local; and it must answer through us. The pods'
  // gateway address is neither the node's nor anyone else's, and the node routes it to the host
  // port (with service_cidr): kube-proxy masquerades such traffic for the same reason. A pod's own
  // address needs no change: the node answers it through the host port anyway.
  if (via_host_port(b.ip, table)) {
    if (in_port == table.host_port() || f.snat) return table.gateway_ip();
    return std::nullopt;
  }
  // Hairpin: a pod reaching itself through its Service would see its own address as the source
  // and answer itself directly, untranslated; NodePort and external IPs with externalTrafficPolicy
  // Cluster may reach another node, whose reply must come back through us. Both take our host IP
  // as source. An endpoint outside the cluster (an API server on another machine, say) is reached
  // like any outside address: from the node IP, or it could not answer a pod address.
  if (table.route(b.ip, kNoPort).next == NextStage::masquerade) return table.overlay().node_ip;
  if (f.snat || b.ip == t.src_ip) return table.host_ip();
  return std::nullopt;
}

void new_connection(rte_mbuf* m, const ParsedPacket& p, const ConnTuple& t, uint32_t hash,
                    PortId in_port, BurstContext& ctx) {
  const ForwardingTable& table = ctx.table;
  const ServiceFrontend* f = frontend_of(t, table);
  if (f == nullptr) return reject(m, p, in_port, DropReason::service_port_unknown, ctx);
  ConnState& conn = *ctx.conn;
  const ServiceBackend* b = choose_backend(*f, t, conn, ctx.now);
  if (b == nullptr) return reject(m, p, in_port, DropReason::service_no_endpoints, ctx);

  NatSpec nat = dnat_spec(b->ip, b->port);
  const std::optional<rte_be32_t> snat_ip = snat_source(*f, *b, t, in_port, table);
  if (snat_ip) {
    const auto with_snat = conn.ports.pick(conn.conntrack, t, *snat_ip, ctx.now, nat);
    if (!with_snat) return drop(m, in_port, DropReason::snat_ports_exhausted, ctx.counters);
    nat = *with_snat;
  }
  ConnEntry* e = conn.conntrack.create(t, nat_reply_tuple(t, nat), nat, ctx.now);
  if (e == nullptr && !nat.snat &&
      conn.conntrack.lookup(nat_reply_tuple(t, nat), ctx.now).entry != nullptr) {
    // Another connection has the same reply: the client's port to another Service with the same
    // backend. As Linux does, the source port moves (the address stays) so replies stay apart.
    const auto remapped = conn.ports.pick(conn.conntrack, t, t.src_ip, ctx.now, nat);
    if (!remapped) return drop(m, in_port, DropReason::snat_ports_exhausted, ctx.counters);
    nat = *remapped;
    e = conn.conntrack.create(t, nat_reply_tuple(t, nat), nat, ctx.now);
  }
  if (e == nullptr) return drop(m, in_port, DropReason::conntrack_full, ctx.counters);
  e->set_cookie(static_cast<uint32_t>(table.version()));
  ctx.counters.conntrack_created.add(1);
  if (f->affinity && !conn.affinity.remember(t.src_ip, f->affinity_id, b->ip, b->port, ctx.now,
                                             f->affinity_timeout_tsc))
    ctx.counters.affinity_full.add(1);

  // The reply's flow may have a plain decision cached from before (the same addresses and ports
  // used without the Service), here or in another worker's cache: from now on it must go through
  // conntrack.
  const ConnTuple& reply = e->tuple(ConnDir::reply);
  const ForwardAction to_backend = route_translated(*e, ConnDir::original, table);
  if (to_backend.out_port != kNoPort) {
    const FlowKey key{reply.src_ip,       reply.dst_ip, reply.src_port,
                      reply.dst_port,     reply.proto,  0,
                      to_backend.out_port};
    ctx.cache.insert(key, FlowCache::hash(key), to_stage(NextStage::tracked));
    conn.notices.announce(conn.worker, key);  // the replies may reach another worker
  }
  translate_and_send(m, p, *e, ConnDir::original, hash, in_port, ctx);
}

void translate_error(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                     bool decapped, BurstContext& ctx) {
  const auto inner = icmp_error_inner_tuple(m, p.ip);
  const ConnLookup found = inner ? find_connection(*inner, ctx) : ConnLookup{};
  if (found.entry == nullptr)
    return deliver(m, p, plain_route(p, in_port, decapped, ctx.table), hash, in_port, ctx);
  const ForwardAction action = route_translated(*found.entry, found.dir, ctx.table);
  if (!nat_translate_icmp_error(m, p.ip, *found.entry, found.dir))
    return drop(m, in_port, DropReason::service_unsupported, ctx.counters);
  send_translated(m, p, action, hash, in_port, ctx);
}

}  // namespace

ForwardAction classify_service(const ParsedPacket& p, bool decapped, const ForwardAction& routed,
                               BurstContext& ctx) {
  if (ctx.conn == nullptr) return routed;
  // Frontends first: a ClusterIP lies outside the cluster's pod network, where the plain route
  // is masquerade when that is on.
  if (!decapped && to_frontend(p.key, ctx.table)) return to_stage(NextStage::service);
  if (!balanced_protocol(p.key.proto)) return routed;
  // Later fragments carry no ports: only the fragment map knows whether they are translated.
  if (ipv4_is_later_fragment(p.ip)) return to_stage(NextStage::tracked);
  // Nothing tracked by any worker: spare a miss the table's cache lines (plain traffic with many
  // flows).
  if (ctx.conn->conntrack.table_empty()) return routed;
  const auto t = packet_tuple(p.ip);
  if (!t) return routed;
  const ConnLookup found = ctx.conn->conntrack.lookup(*t, ctx.now);
  return found.entry != nullptr && found.entry->nat().dnat ? to_stage(NextStage::tracked) : routed;
}

void service_forward(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                     BurstContext& ctx) {
  if (ctx.conn == nullptr) return drop(m, in_port, DropReason::service_unsupported, ctx.counters);
  if (ipv4_is_later_fragment(p.ip) && translate_later_fragment(m, p, hash, in_port, ctx)) return;
  const auto t = packet_tuple(p.ip);
  if (!t || !balanced_protocol(t->proto))
    return drop(m, in_port, DropReason::service_unsupported, ctx.counters);
  const ConnLookup found = find_connection(*t, ctx);
  if (found.entry != nullptr)
    return translate_and_send(m, p, *found.entry, found.dir, hash, in_port, ctx);
  new_connection(m, p, *t, hash, in_port, ctx);
}

void tracked_forward(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                     bool decapped, BurstContext& ctx) {
  if (is_icmp_error_packet(p.ip)) return translate_error(m, p, hash, in_port, decapped, ctx);
  if (ipv4_is_later_fragment(p.ip) && translate_later_fragment(m, p, hash, in_port, ctx)) return;
  const auto t = packet_tuple(p.ip);
  const ConnLookup found = t ? find_connection(*t, ctx) : ConnLookup{};
  if (found.entry == nullptr)
    return deliver(m, p, plain_route(p, in_port, decapped, ctx.table), hash, in_port, ctx);
  translate_and_send(m, p, *found.entry, found.dir, hash, in_port, ctx);
}

void service_uplink(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                    BurstContext& ctx) {
  const ForwardingTable& table = ctx.table;
  if (ctx.conn != nullptr && is_icmp_error_packet(p.ip)) {
    // About a NodePort connection (a router's "fragmentation needed" on the way to its client).
    const auto inner = icmp_error_inner_tuple(m, p.ip);
    const ConnLookup found = inner ? ctx.conn->conntrack.lookup(*inner, ctx.now) : ConnLookup{};
    if (found.entry != nullptr && found.entry->nat().dnat)
      return translate_error(m, p, hash, in_port, false, ctx);
  }
  if (ctx.conn != nullptr && ipv4_is_later_fragment(p.ip) &&
      translate_later_fragment(m, p, hash, in_port, ctx))
    return;
  // A client outside the cluster: to a NodePort on our node IP, or to an external IP routed to us.
  const ServiceIndex& services = table.services();
  if (ctx.conn != nullptr && (services.has_node_ports() || services.has_external_ips()) &&
      balanced_protocol(p.ip->next_proto_id)) {
    const auto t = packet_tuple(p.ip);
    const ServiceFrontend* f = t ? frontend_of(*t, table) : nullptr;
    if (f != nullptr && (f->external || (f->node_port && t->dst_ip == table.overlay().node_ip))) {
      const ConnLookup found = find_connection(*t, ctx);
      if (found.entry == nullptr) return new_connection(m, p, *t, hash, in_port, ctx);
      if (found.dir == ConnDir::original)
        return translate_and_send(m, p, *found.entry, found.dir, hash, in_port, ctx);
    }
  }
  masquerade_in(m, p, in_port, ctx);
}

}  // namespace podvs
