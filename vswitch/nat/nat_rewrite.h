// NAT actions on IPv4 packets: the tuple conntrack knows a packet by, rewriting its source or
// destination (address and TCP/UDP port or ICMP echo identifier) with incremental checksum
// updates (ip_rewrite.h), and translating ICMP errors about a NATed connection so that the host
// behind the NAT understands them.
//
// Every function takes the IPv4 header of a packet parse_packet() classified as ipv4: the header
// is whole and, in a first fragment, so is the minimum TCP/UDP/ICMP header.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <optional>

#include "base/ipv4_header.h"
#include "offload/checksum_completion.h"
#include "vswitch/conn_tuple.h"
#include "vswitch/nat/conntrack.h"
#include "vswitch/nat/ip_rewrite.h"

namespace podvs {

// The tuple of a TCP, UDP or ICMP echo request/reply packet; nullopt for other protocols, other
// ICMP messages (errors go through icmp_error_inner_tuple) and non-first fragments, which carry
// no ports.
std::optional<ConnTuple> packet_tuple(const rte_ipv4_hdr* ip);

// What the TCP/UDP checksum field of `m` holds: a partial checksum when a port with checksum
// offload handed it over (RTE_MBUF_F_TX_TCP_CKSUM/UDP_CKSUM, set on super-frames too).
inline L4Checksum l4_checksum_of(const rte_mbuf* m) {
  return has_partial_l4_checksum(m) ? L4Checksum::partial : L4Checksum::complete;
}

// Set the source (destination) address and port, network byte order. The port is ignored where
// the packet has none (non-first fragments, protocols other than TCP, UDP and ICMP echo).
void rewrite_src(rte_ipv4_hdr* ip, rte_be32_t addr, rte_be16_t port, L4Checksum l4_checksum);
void rewrite_dst(rte_ipv4_hdr* ip, rte_be32_t addr, rte_be16_t port, L4Checksum l4_checksum);

// Applies the connection's NAT to a packet of it travelling in `dir` (as lookup() of its
// packet_tuple() found): the packet leaves looking like the reverse of the other direction's
// tuple. Untranslated connections are left alone.
void nat_translate(rte_ipv4_hdr* ip, const ConnEntry& entry, ConnDir dir, L4Checksum l4_checksum);

// ICMP destination unreachable, time exceeded or parameter problem (types 3, 11, 12): the errors
// that quote a packet of a connection, and so are translated with it rather than tracked alone.
bool is_icmp_error_type(uint8_t type);

// An ICMP error: it belongs to the connection it quotes, not to one of its own.
inline bool is_icmp_error_packet(const rte_ipv4_hdr* ip) {
  return ip->next_proto_id == IPPROTO_ICMP &&
         is_icmp_error_type(*(reinterpret_cast<const uint8_t*>(ip) + ipv4_header_len(ip)));
}

// The TCP flags of a TCP packet (what ConnTrack::update wants), 0 for any other protocol.
inline uint8_t tcp_flags_of(const rte_ipv4_hdr* ip) {
  if (ip->next_proto_id != IPPROTO_TCP) return 0;
  return reinterpret_cast<const rte_tcp_hdr*>(reinterpret_cast<const uint8_t*>(ip) +
                                              ipv4_header_len(ip))
      ->tcp_flags;
}

// For an ICMP destination unreachable, time exceeded or parameter problem (types 3, 11, 12) that
// quotes the IPv4 header and at least 8 bytes of a TCP, UDP or ICMP echo packet in the first
// segment of `m`: the tuple of the quoted packet's connection oriented the way the error travels
// (the quoted tuple reversed), so that lookup() gives its entry and the error's direction. nullopt
// for anything else.
std::optional<ConnTuple> icmp_error_inner_tuple(const rte_mbuf* m, const rte_ipv4_hdr* ip);

// Translates an ICMP error about the connection of `entry`, travelling in `dir` (as lookup() of
// icmp_error_inner_tuple() found), the way the connection's own packets are translated: the
// quoted packet becomes the packet its sender sent, its checksums fixed where quoted; the outer
// destination becomes that sender; an outer source that is the quoted packet's destination (the
// peer itself reporting, e.g. port unreachable from a Service backend) becomes the address the
// sender knows that peer by, while a router on the way keeps its own. The ICMP checksum and the
// outer header checksum are updated. Returns false, changing nothing, when
// icmp_error_inner_tuple() would give nullopt.
bool nat_translate_icmp_error(const rte_mbuf* m, rte_ipv4_hdr* ip, const ConnEntry& entry,
                              ConnDir dir);

}  // namespace podvs
