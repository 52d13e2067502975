#include "vswitch/packet_parse.h"

namespace podvs {

void parse_arp_into(uint32_t l3_len, ParsedPacket& out) {
  auto* arp = reinterpret_cast<rte_arp_hdr*>(out.eth + 1);
  if (l3_len < sizeof(rte_arp_hdr) || arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != sizeof(rte_be32_t)) {
    out.cls = PacketClass::drop;
    out.reason = DropReason::arp_malformed;
    return;
  }
  out.cls = PacketClass::arp;
  out.arp = arp;
}

}  // namespace podvs
