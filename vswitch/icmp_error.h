// ICMP "destination unreachable" (RFC 792 type 3) errors built in place from the packet they
// answer, for the two cases the switch reports to a sender:
// - fragmentation needed and DF set (code 4, RFC 1191 path MTU discovery): an IPv4 packet with DF
//   set that would exceed the uplink MTU once VXLAN adds its 50 bytes; the sender lowers its path
//   MTU.
// - port unreachable (code 3): a packet to a Service frontend that has no eligible endpoint,
//   answered from the Service's ClusterIP. The sender's kernel matches the quoted header to the
//   socket: a TCP connect() fails at once with ECONNREFUSED, and so does a connected UDP
//   socket's next call.
// Both are plain functions of one mbuf, safe from any thread that owns the mbuf.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// Rewrites the Ethernet/IPv4 frame in `m`, in place, into an ICMP destination unreachable error
// to its sender: Ethernet reply_src_mac → original source MAC; IPv4 reply_src_ip → original
// source, TTL 64; ICMP type 3 with the given code; payload the original IPv4 header with options
// and the first 8 bytes of its payload as received (RFC 792). The error is built in the first
// segment's headroom (28 bytes, which received mbufs always have) and the mbuf is trimmed to it.
// Returns false, leaving `m` unchanged, when RFC 1812 section 4.3.2.7 forbids an error (the packet
// is itself an ICMP error, a non-first fragment, from an address that is not one host, to a
// broadcast or multicast address) or when its headers are not whole in the first segment; the
// caller drops the packet then. `reply_src_ip` is network byte order.

// Code 4, fragmentation needed, with `next_hop_mtu` (host byte order) in the header's second
// word (RFC 1191 section 4). Also false for a packet without DF: it must be fragmented instead.
bool make_frag_needed(rte_mbuf* m, uint16_t next_hop_mtu, rte_be32_t reply_src_ip,
                      const rte_ether_addr& reply_src_mac);

// Code 3, port unreachable, the header's second word zero (RFC 792 "unused").
bool make_port_unreachable(rte_mbuf* m, rte_be32_t reply_src_ip,
                           const rte_ether_addr& reply_src_mac);

}  // namespace podvs
