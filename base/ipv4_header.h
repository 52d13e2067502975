// What an IPv4 header says, in one place for every stage that reads one: its length, its
// fragment fields, and whether a received header can be trusted at all. Inline (the parser runs
// it for every packet); no state.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstdint>

#include "base/drop_reason.h"

namespace podvs {

// IHL × 4: the header's length in bytes, options included.
inline uint32_t ipv4_header_len(const rte_ipv4_hdr* ip) {
  return static_cast<uint32_t>(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
}

// Fragment offset 0: the packet carries its L4 header (it is whole, or the first fragment).
inline bool ipv4_has_l4_header(const rte_ipv4_hdr* ip) {
  return (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;
}

// A fragment that is not the first: it has no L4 header.
inline bool ipv4_is_later_fragment(const rte_ipv4_hdr* ip) { return !ipv4_has_l4_header(ip); }

// The first fragment of a datagram that has more (offset 0, more-fragments set); a whole packet
// is not one.
inline bool ipv4_is_first_fragment(const rte_ipv4_hdr* ip) {
  return (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) ==
         RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
}

// The sender forbids fragmentation (DF).
inline bool ipv4_dont_fragment(const rte_ipv4_hdr* ip) {
  return (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) != 0;
}

// The checks of a received IPv4 header, against the bytes there are: `seg_len` bytes from the
// header to the end of the first segment, `pkt_len` to the end of the packet. Version 4, a header
// of at least 20 bytes wholly in the first segment, and a total length that covers the header and
// that the packet holds (Ethernet padding may follow it, never less).
struct Ipv4HeaderCheck {
  bool ok = false;
  DropReason reason = DropReason::ipv4_truncated;  // why not, when !ok
  uint32_t header_len = 0;                         // when ok
  uint32_t total_len = 0;                          // when ok, host order
};

inline Ipv4HeaderCheck check_ipv4_header(const rte_ipv4_hdr* ip, uint32_t seg_len,
                                         uint32_t pkt_len) {
  if (seg_len < sizeof(rte_ipv4_hdr)) return {.reason = DropReason::ipv4_truncated};
  if ((ip->version_ihl >> 4) != 4) return {.reason = DropReason::ipv4_bad_version};
  const uint32_t header_len = ipv4_header_len(ip);
  if (header_len < sizeof(rte_ipv4_hdr)) return {.reason = DropReason::ipv4_bad_ihl};
  if (header_len > seg_len) return {.reason = DropReason::ipv4_truncated};
  const uint32_t total_len = rte_be_to_cpu_16(ip->total_length);
  if (total_len < header_len || total_len > pkt_len)
    return {.reason = DropReason::ipv4_bad_total_length};
  return {.ok = true, .header_len = header_len, .total_len = total_len};
}

}  // namespace podvs
