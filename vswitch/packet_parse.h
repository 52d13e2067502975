// Stage 1 of the pipeline: classify a received frame and extract its flow key, with every length
// checked against the bytes actually received. Nothing here writes to the packet.
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "base/drop_reason.h"
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

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};
static_assert(sizeof(FlowKey) == 16);

enum class PacketClass : uint8_t { ipv4, arp, drop };

struct ParsedPacket {
  PacketClass cls = PacketClass::drop;
  DropReason reason = DropReason::runt_frame;  // when cls == drop
  rte_ether_hdr* eth = nullptr;
  rte_ipv4_hdr* ip = nullptr;  // when cls == ipv4
  rte_arp_hdr* arp = nullptr;  // when cls == arp
  FlowKey key;                 // when cls == ipv4
};

ParsedPacket parse_packet(rte_mbuf* m, PortId in_port);

}  // namespace podvs
