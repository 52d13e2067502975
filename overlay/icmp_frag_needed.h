// Path MTU discovery support (RFC 1191) for packets that do not fit the overlay: an IPv4 packet
// with DF set that would exceed the uplink MTU once VXLAN adds its 50 bytes is turned into the
// ICMP "destination unreachable, fragmentation needed and DF set" (type 3, code 4) error back to
// its sender, which then lowers its path MTU.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace podvs {

// True when the sender forbids fragmentation. Packets without DF must be fragmented instead.
inline bool ipv4_dont_fragment(const rte_ipv4_hdr* ip) {
  return (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) != 0;
}

// Rewrites the Ethernet/IPv4 frame in `m`, in place, into the ICMP error to its sender:
// Ethernet reply_src_mac → original source MAC; IPv4 reply_src_ip → original source, TTL 64;
// ICMP type 3 code 4 with `next_hop_mtu` (host byte order); payload the original IPv4 header
// with options and the first 8 bytes of its payload (RFC 792). The error is built in the first
// segment's headroom (28 bytes, which received mbufs always have) and the mbuf is trimmed to it.
// Returns false, leaving `m` unchanged, when RFC 1812 section 4.3.2.7 forbids an error (the packet
// is itself an ICMP error, a non-first fragment, from an address that is not one host, to a
// broadcast or multicast address) or when it is not a DF packet whose headers are whole in the
// first segment; the caller drops the packet then. `reply_src_ip` is network byte order.
bool make_frag_needed(rte_mbuf* m, uint16_t next_hop_mtu, rte_be32_t reply_src_ip,
                      const rte_ether_addr& reply_src_mac);

}  // namespace podvs
