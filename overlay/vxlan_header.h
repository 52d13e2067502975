// The VXLAN (RFC 7348) outer headers of podvs's overlay: what a packet to a remote node is
// wrapped in. The control thread builds one VxlanOuterTemplate per remote node when the node (or
// its next-hop MAC) changes; the encap stage copies it in front of each packet and fills only the
// fields that depend on the packet (lengths, checksums, UDP source port).
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include <cstdint>
#include <string>

namespace podvs {

// Host byte order.
struct VxlanParams {
  uint16_t udp_port = 4789;  // IANA's VXLAN port (RFC 7348 section 5)
  uint32_t vni = 1;
  // RFC 7348 lets senders put 0 in the outer UDP checksum: the inner packet has its own, and
  // computing it costs a pass over the payload.
  bool udp_checksum = false;
};

// The VNI is a 24-bit field.
inline constexpr uint32_t kVxlanMaxVni = 0xffffff;

// Returns "" when `params` can be used, else a sentence saying what to fix.
std::string vxlan_params_error(const VxlanParams& params);

// Outer Ethernet 14 + IPv4 20 (no options) + UDP 8 + VXLAN 8.
inline constexpr uint16_t kVxlanOverhead = 50;

// The four outer headers as they go on the wire, network byte order.
struct VxlanOuterHeaders {
  rte_ether_hdr eth;
  rte_ipv4_hdr ip;
  rte_udp_hdr udp;
  rte_vxlan_hdr vxlan;
};
static_assert(sizeof(VxlanOuterHeaders) == kVxlanOverhead);

// Precomputed outer headers for one remote node. Written by the control thread before it is
// published to workers, then only read, so workers may share one without synchronisation.
struct VxlanOuterTemplate {
  // IPv4 total length and checksum, UDP source port, length and checksum are zero here.
  VxlanOuterHeaders hdr;
  // One's complement sum (folded, not inverted, in memory word order like rte_raw_cksum) of the
  // IPv4 header with total length and checksum zero. Only the total length varies per packet
  // (the IP id stays 0: DF is set, so the datagram is never fragmented and RFC 6864 lets an
  // atomic datagram's id be any value), so a packet's checksum is one add and a fold.
  uint16_t ip_partial_sum;
};

// Ethernet src_mac → next_hop_mac, IPv4 src_ip → dst_ip with DF and TTL 64, UDP to
// params.udp_port, VXLAN flags I and params.vni. Addresses are network byte order.
// Precondition: vxlan_params_error(params) is empty.
VxlanOuterTemplate make_vxlan_outer(const VxlanParams& params, const rte_ether_addr& src_mac,
                                    const rte_ether_addr& next_hop_mac, rte_be32_t src_ip,
                                    rte_be32_t dst_ip);

// Outer UDP source port for an inner flow, host byte order: in the dynamic range 49152..65535
// (RFC 7348 section 5 recommends it) and a function of the inner flow only, so that underlay
// ECMP spreads flows across paths but keeps each flow's packets on one path, in order.
uint16_t vxlan_source_port(uint32_t flow_hash);

}  // namespace podvs
