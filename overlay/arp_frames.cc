#include "overlay/arp_frames.h"

#include <rte_byteorder.h>

#include <cstring>

namespace podvs {

bool build_arp_request(rte_mbuf* m, const rte_ether_addr& src_mac, rte_be32_t src_ip,
                       rte_be32_t target_ip) {
  if (rte_pktmbuf_pkt_len(m) != 0) return false;
  char* data = rte_pktmbuf_append(m, kArpFrameLen);
  if (data == nullptr) return false;
  std::memset(data, 0, kArpFrameLen);

  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  std::memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
  eth->src_addr = src_mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);

  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = sizeof(rte_be32_t);
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = src_mac;
  arp->arp_data.arp_sip = src_ip;
  arp->arp_data.arp_tip = target_ip;  // arp_tha stays zero
  return true;
}

bool build_gratuitous_arp(rte_mbuf* m, const rte_ether_addr& src_mac, rte_be32_t node_ip) {
  return build_arp_request(m, src_mac, node_ip, node_ip);
}

std::optional<ArpLearned> parse_arp_for_neighbour(const rte_arp_hdr* arp, size_t len) {
  if (len < sizeof(rte_arp_hdr)) return std::nullopt;
  if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != sizeof(rte_be32_t))
    return std::nullopt;
  if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) &&
      arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY))
    return std::nullopt;
  const rte_arp_ipv4& body = arp->arp_data;
  if (body.arp_sip == 0 || !rte_is_valid_assigned_ether_addr(&body.arp_sha)) return std::nullopt;
  ArpLearned learned;
  learned.ip = rte_be_to_cpu_32(body.arp_sip);
  std::memcpy(learned.mac.bytes.data(), body.arp_sha.addr_bytes, RTE_ETHER_ADDR_LEN);
  return learned;
}

}  // namespace podvs
