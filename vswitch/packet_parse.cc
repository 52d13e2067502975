#include "vswitch/packet_parse.h"

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "base/ipv4_header.h"

namespace podvs {
namespace {

ParsedPacket dropped(DropReason reason) {
  ParsedPacket p;
  p.cls = PacketClass::drop;
  p.reason = reason;
  return p;
}

// Smallest L4 header the switch needs to read (ports) or that a valid packet must carry.
uint16_t min_l4_header(uint8_t proto) {
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

}  // namespace

ParsedPacket parse_packet(rte_mbuf* m, PortId in_port) {
  // Headers must sit in the first segment; the drivers we use never split them.
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < sizeof(rte_ether_hdr)) return dropped(DropReason::runt_frame);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint32_t l3_len = seg_len - sizeof(rte_ether_hdr);

  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    if (l3_len < sizeof(rte_arp_hdr) || arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
        arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
        arp->arp_plen != sizeof(rte_be32_t))
      return dropped(DropReason::arp_malformed);
    ParsedPacket p;
    p.cls = PacketClass::arp;
    p.eth = eth;
    p.arp = arp;
    return p;
  }
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
    return dropped(DropReason::unsupported_ethertype);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const Ipv4HeaderCheck check =
      check_ipv4_header(ip, l3_len, rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr));
  if (!check.ok) return dropped(check.reason);
  const uint32_t ihl = check.header_len;
  const uint32_t total_len = check.total_len;

  ParsedPacket p;
  p.cls = PacketClass::ipv4;
  p.eth = eth;
  p.ip = ip;
  p.key.src_ip = ip->src_addr;
  p.key.dst_ip = ip->dst_addr;
  p.key.proto = ip->next_proto_id;
  p.key.in_port = in_port;

  const uint16_t l4_min = min_l4_header(ip->next_proto_id);
  if (ipv4_has_l4_header(ip) && l4_min != 0) {
    if (total_len - ihl < l4_min || ihl + l4_min > l3_len) return dropped(DropReason::l4_truncated);
    if (ip->next_proto_id != IPPROTO_ICMP) {
      // TCP and UDP both start with source and destination port.
      const auto* ports = reinterpret_cast<const rte_be16_t*>(reinterpret_cast<uint8_t*>(ip) + ihl);
      p.key.src_port = ports[0];
      p.key.dst_port = ports[1];
    }
  }
  return p;
}

}  // namespace podvs
