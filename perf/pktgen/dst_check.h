// --expect-dst: what the sink checks in each of its frames when the switch translates the
// destination (a Service's DNAT to an endpoint): the IPv4 destination address is the endpoint's,
// the L4 destination port one of its target ports, and the IPv4 header and L4 checksums are
// right, since a NAT
// that rewrites addresses and ports must update both. Frames failing either check are errors the
// report counts apart; they do not count as received.
#pragma once

#include <cstdint>

namespace podvs::pktgen {

struct ExpectedDst {
  uint32_t ip = 0;  // host byte order
  uint16_t port_first = 0;
  uint16_t port_last = 0;  // inclusive; = port_first for one port
};

enum class DstCheck : uint8_t { ok, wrong_dst, bad_checksum };

// `frame` is an Ethernet frame read_stamp() accepted (IPv4 with a 20-byte header, UDP or TCP).
// A UDP checksum of 0 ("none", RFC 768) passes: a switch may drop the checksum of UDP over IPv4.
DstCheck check_dst(const uint8_t* frame, uint32_t len, const ExpectedDst& expected);

}  // namespace podvs::pktgen
