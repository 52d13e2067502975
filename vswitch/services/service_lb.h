// Kubernetes Services in the data path (the job kube-proxy does): a packet to a Service frontend
// (ClusterIP:port, or a node IP:NodePort) starts or continues a connection to one of the
// Service's endpoints, picked by ClientIP affinity or else by Maglev and remembered in the
// worker's conntrack table, which then translates every packet of the connection both ways,
// ICMP errors about it included.
//
// Which packets come here is decided on a flow-cache miss (classify_service) and cached with the
// flow: traffic to a frontend (NextStage::service), and traffic of a connection a Service
// translates (NextStage::tracked: replies, and the backend side of a hairpin). Pod-to-pod traffic
// that is neither never touches conntrack.
//
// Concurrency: the ConnState is the calling worker's own (conn_state.h); Services are read from
// the ForwardingTable under RCU (service_table.h).
#pragma once

#include <rte_mbuf.h>

#include "vswitch/forwarding_table.h"
#include "vswitch/packet_parse.h"

namespace podvs {

struct BurstContext;

// The decision to cache for a flow whose plain route is `routed`: service, tracked, or `routed`.
ForwardAction classify_service(const ParsedPacket& p, bool decapped, const ForwardAction& routed,
                               BurstContext& ctx);

// A packet whose cached decision is NextStage::service.
void service_forward(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                     BurstContext& ctx);

// A packet whose cached decision is NextStage::tracked, or an ICMP error (which belongs to the
// connection it quotes, whatever its own addresses are): translated when its connection is tracked,
// else forwarded as plain traffic.
void tracked_forward(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                     bool decapped, BurstContext& ctx);

// Plain IPv4 on the uplink: a NodePort connection from outside the cluster, or else what
// masquerade_in makes of it.
void service_uplink(rte_mbuf* m, const ParsedPacket& p, uint32_t hash, PortId in_port,
                    BurstContext& ctx);

}  // namespace podvs
