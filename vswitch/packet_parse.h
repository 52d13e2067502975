// Stage 1 of the pipeline: classify a received frame and extract its flow key, with every length
// checked against the bytes actually received. Nothing here writes to the packet.
//
// Inline, writing into the caller's record, with the flow key built as two 64-bit words: see
// parse_packet_into() and docs/cycle_budget.md (Store-forwarding stalls).
#pragma once

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>
#include <cstdint>

#include "base/drop_reason.h"
#include "base/ipv4_header.h"
#include "ports/port_id.h"

namespace podvs {

// Exact-match key of the flow cache: ingress port and IPv4 5-tuple, addresses and ports in
// network byte order. 16 bytes so that comparing is two 64-bit loads.
struct FlowKey {
  rte_be32_t src_ip = 0;
  rte_be32_t dst_ip = 0;
  rte_be16_t src_port = 0;  // ICMP: 0
  rte_be16_t dst_port = 0;
  uint8_t proto = 0;
  uint8_t pad = 0;
  PortId in_port = 0;

  // Two 64-bit compares, not six field compares.
  friend bool operator==(const FlowKey& a, const FlowKey& b) {
    return __builtin_memcmp(&a, &b, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 16);
static_assert(offsetof(FlowKey, src_port) == 8 && offsetof(FlowKey, proto) == 12 &&
              offsetof(FlowKey, in_port) == 14);
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "make_flow_key packs the key's words");

enum class PacketClass : uint8_t { ipv4, arp, drop };

struct ParsedPacket {
  PacketClass cls = PacketClass::drop;
  DropReason reason = DropReason::runt_frame;  // when cls == drop
  rte_ether_hdr* eth = nullptr;
  rte_ipv4_hdr* ip = nullptr;  // when cls == ipv4
  rte_arp_hdr* arp = nullptr;  // when cls == arp
  FlowKey key;                 // when cls == ipv4
};

// The key of an IPv4 packet whose L4 ports (network order, as they sit in a TCP or UDP header;
// 0 for other packets) are `ports`: the addresses are one 8-byte load (they are adjacent in the
// header), the rest one word, and the key is written as the two words a hash or compare reads.
inline FlowKey make_flow_key(const rte_ipv4_hdr* ip, uint32_t ports, PortId in_port) {
  static_assert(offsetof(rte_ipv4_hdr, dst_addr) == offsetof(rte_ipv4_hdr, src_addr) + 4);
  uint64_t words[2];
  __builtin_memcpy(&words[0], &ip->src_addr, sizeof(uint64_t));
  words[1] =
      ports | static_cast<uint64_t>(ip->next_proto_id) << 32 | static_cast<uint64_t>(in_port) << 48;
  FlowKey key;
  __builtin_memcpy(&key, words, sizeof(key));
  return key;
}

// Smallest L4 header the switch needs to read (ports) or that a valid packet must carry.
inline uint16_t min_l4_header(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return sizeof(rte_tcp_hdr);
    case IPPROTO_UDP:
      return sizeof(rte_udp_hdr);
    case IPPROTO_ICMP:
      return sizeof(rte_icmp_hdr);
    default:
      return 0;
  }
}

// ARP, rare on the data path, out of line: `out.eth` is set, the ARP header follows it and
// `l3_len` bytes of the first segment do.
void parse_arp_into(uint32_t l3_len, ParsedPacket& out);

// Classifies `m` into `out` (a default-constructed record: only the fields its class uses are
// written), field by field. The pipeline's form: the fields are stored straight into the burst's
// array, never built in a temporary and copied (a wide copy of a record written by narrower
// stores stalls on store forwarding; as an out-of-line call returning its record by value, it
// held a fifth of process_burst's samples).
inline void parse_packet_into(rte_mbuf* m, PortId in_port, ParsedPacket& out) {
  auto drop = [&out](DropReason reason) {
    out.cls = PacketClass::drop;
    out.reason = reason;
  };
  // Headers must sit in the first segment; the drivers we use never split them.
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < sizeof(rte_ether_hdr)) [[unlikely]]
    return drop(DropReason::runt_frame);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint32_t l3_len = seg_len - sizeof(rte_ether_hdr);
  out.eth = eth;
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) [[unlikely]] {
    if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) return parse_arp_into(l3_len, out);
    return drop(DropReason::unsupported_ethertype);
  }

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const Ipv4HeaderCheck check =
      check_ipv4_header(ip, l3_len, rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr));
  if (!check.ok) [[unlikely]]
    return drop(check.reason);
  const uint32_t ihl = check.header_len;

  uint32_t ports = 0;
  const uint16_t l4_min = min_l4_header(ip->next_proto_id);
  if (ipv4_has_l4_header(ip) && l4_min != 0) {
    if (check.total_len - ihl < l4_min || ihl + l4_min > l3_len) [[unlikely]]
      return drop(DropReason::l4_truncated);
    // TCP and UDP both start with source and destination port; ICMP has none.
    if (ip->next_proto_id != IPPROTO_ICMP)
      __builtin_memcpy(&ports, reinterpret_cast<const uint8_t*>(ip) + ihl, sizeof(ports));
  }
  out.cls = PacketClass::ipv4;
  out.ip = ip;
  out.key = make_flow_key(ip, ports, in_port);
}

// The same, returned by value: for callers off the burst loop.
inline ParsedPacket parse_packet(rte_mbuf* m, PortId in_port) {
  ParsedPacket p;
  parse_packet_into(m, in_port, p);
  return p;
}

}  // namespace podvs
