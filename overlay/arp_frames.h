// ARP frames the control thread sends and reads on the uplink to resolve next hops (see
// neighbour_table.h). Pure functions over one mbuf or one header: no state, any thread.
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <optional>

#include "base/net_types.h"

namespace podvs {

// An ARP frame on the wire: Ethernet's minimum frame without the FCS (IEEE 802.3 pads shorter
// frames with zeros; 14 + 28 header bytes are shorter).
inline constexpr uint16_t kArpFrameLen = 60;

// Writes a broadcast ARP request "who has target_ip? tell src_ip" into `m`, which must be empty
// (fresh from rte_pktmbuf_alloc): 42 bytes of headers zero-padded to kArpFrameLen. The target
// hardware address is zero, as Linux sends it. False (m unchanged) if m is not empty or lacks room.
[[nodiscard]] bool build_arp_request(rte_mbuf* m, const rte_ether_addr& src_mac, rte_be32_t src_ip,
                                     rte_be32_t target_ip);

// An ARP announcement (RFC 5227: a request with sender and target IP both `node_ip`), sent at
// startup so peers and the router refresh their caches with our MAC. Same contract as above.
[[nodiscard]] bool build_gratuitous_arp(rte_mbuf* m, const rte_ether_addr& src_mac,
                                        rte_be32_t node_ip);

struct ArpLearned {
  Ipv4 ip = 0;  // host byte order, as NeighbourTable takes it
  MacAddr mac;
};

// The sender binding of an Ethernet/IPv4 ARP request or reply, `len` bytes of which start at
// `arp`. Nullopt for anything a neighbour must not be learned from: too short, another hardware or
// protocol type or address length, an opcode other than request/reply, sender IP 0.0.0.0 (an RFC
// 5227 probe), or a sender MAC that is multicast, broadcast or zero.
std::optional<ArpLearned> parse_arp_for_neighbour(const rte_arp_hdr* arp, size_t len);

}  // namespace podvs
