// Rewriting one endpoint (address and port) of an IPv4 packet in place, with the IPv4 header
// checksum and the TCP/UDP/ICMP checksum updated incrementally (RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m')), so the payload is never read. The same code rewrites the packet quoted
// in an ICMP error; it reports the one's complement sum of what it changed so that the checksum
// enclosing those bytes (the ICMP error's) can follow.
//
// Fields are reached through byte pointers with memcpy: frames are only 2-byte aligned, a quoted
// header sits at any even offset, and DPDK's header structs are packed. One's complement sums do
// not depend on byte order (RFC 1071 section 2(B)), so values are summed as stored.
#pragma once

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

namespace podvs {

inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// ~m + m' for 16-bit words changing from `from` to `to`, unfolded.
inline uint32_t cksum_delta16(uint16_t from, uint16_t to) {
  return static_cast<uint16_t>(~from) + uint32_t{to};
}
inline uint32_t cksum_delta32(uint32_t from, uint32_t to) {
  return cksum_delta16(static_cast<uint16_t>(from), static_cast<uint16_t>(to)) +
         cksum_delta16(static_cast<uint16_t>(from >> 16), static_cast<uint16_t>(to >> 16));
}

// The checksum after the data it covers changes by `delta` (a sum of cksum_delta terms). Folding
// end-around carries turns a non-zero sum into 1..0xffff, never 0, so like a full recomputation
// the result is 0x0000 rather than 0xffff when both would do (RFC 1624 section 3).
inline uint16_t cksum_adjust(uint16_t cksum, uint32_t delta) {
  uint32_t sum = static_cast<uint16_t>(~cksum) + delta;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

enum class Endpoint : uint8_t { src, dst };

// What a packet's TCP/UDP checksum field holds. `partial`: the packet came from a port with
// checksum offload and the field is the pseudo-header's sum, completed where the packet leaves
// (offload/virtio_net_hdr.h). Linux's rule (inet_proto_csum_replace4/2 on CHECKSUM_PARTIAL)
// applies then: an address rewrite adds its change to that sum, a port rewrite (outside the
// pseudo-header) leaves it alone, since the completion will sum the new port anyway.
enum class L4Checksum : uint8_t { complete, partial };

// Where the fields an endpoint rewrite touches sit in one IPv4 packet.
struct RewriteFields {
  uint8_t* ip = nullptr;
  uint8_t* l4_cksum = nullptr;  // null when absent, or when no rewrite changes it
  uint8_t* port[2] = {};        // by Endpoint; ICMP echo: both the identifier; null when absent
  bool pseudo_header = false;   // the L4 checksum covers the addresses (TCP, UDP)
  bool udp = false;             // a zero L4 checksum means "none" (RFC 768)
  bool partial = false;         // the L4 checksum field is a partial one (L4Checksum::partial)
};

// The fields of the IPv4 packet at `ip` (header valid and whole) of which the first `l4_len`
// bytes of L4 header are at hand. Ports and the L4 checksum are found in first fragments of TCP,
// UDP and ICMP echo request/reply only; other packets get their addresses rewritten alone.
// `l4_checksum` is what the TCP/UDP checksum field holds.
RewriteFields rewrite_fields(uint8_t* ip, uint32_t l4_len,
                             L4Checksum l4_checksum = L4Checksum::complete);

// Sets the endpoint to addr:port (network byte order; the port where the packet has one) and
// updates the checksums. Returns the sum of cksum_delta terms for every byte it changed.
uint32_t rewrite_endpoint(const RewriteFields& f, Endpoint which, rte_be32_t addr, rte_be16_t port);

}  // namespace podvs
