// VXLAN (RFC 7348) for podvs-pktgen: the outer headers --vxlan-tx puts in front of every generated
// frame, and how --vxlan-rx finds the inner frame (and its stamp) in what it receives.
//
// On the wire: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 = 50 bytes, then the inner frame as
// frame.h builds it. --size stays the inner frame's size; the wire frame is 50 bytes longer.
// The outer headers are the same for every packet of a run except the UDP source port, which a
// VTEP derives from the inner flow so that the underlay's ECMP spreads flows: per flow here too.
#pragma once

#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <optional>

#include "perf/pktgen/flows.h"
#include "perf/pktgen/frame.h"

namespace podvs::pktgen {

inline constexpr uint32_t kVxlanOuterLen = 50;
inline constexpr uint16_t kVxlanDefaultPort = 4789;  // IANA
inline constexpr uint32_t kVxlanMaxVni = 0xffffff;   // 24 bits
// Byte offset of the outer UDP source port (Ethernet 14 + IPv4 20).
inline constexpr uint32_t kVxlanSourcePortOffset = 34;

struct VxlanSpec {
  rte_ether_addr src_mac{};
  rte_ether_addr dst_mac{};
  uint32_t src_ip = 0;  // host byte order
  uint32_t dst_ip = 0;
  uint16_t udp_port = kVxlanDefaultPort;
  uint32_t vni = 1;
};

using VxlanOuter = std::array<uint8_t, kVxlanOuterLen>;

// The outer headers for an inner frame of `inner_len` bytes (without FCS): Ethernet to dst_mac,
// IPv4 with DF, TTL 64, id 0 and its checksum, UDP to spec.udp_port with checksum 0 (RFC 7348
// allows it over IPv4) and source port 0 (see set_vxlan_source_port), VXLAN flags I and the VNI.
VxlanOuter make_vxlan_outer(const VxlanSpec& spec, uint16_t inner_len);

// The outer UDP source port of an inner flow: a hash of its 5-tuple in 49152-65535, the dynamic
// range RFC 7348 section 5 recommends.
uint16_t vxlan_source_port(const FlowTuple& inner, L4 proto);

inline void set_vxlan_source_port(uint8_t* frame, uint16_t port) {
  put_be16(frame + kVxlanSourcePortOffset, port);
}

// Where the inner frame starts when `frame` is a VXLAN packet to `udp_port` with the I flag and
// `vni` (an unfragmented IPv4 UDP datagram holding at least an inner Ethernet header); nothing
// for any other frame.
std::optional<uint32_t> vxlan_inner_offset(const uint8_t* frame, uint32_t len, uint16_t udp_port,
                                           uint32_t vni);

}  // namespace podvs::pktgen
