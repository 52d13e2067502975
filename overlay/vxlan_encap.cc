#include "overlay/vxlan_encap.h"

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstring>

#include "base/mbuf_cksum.h"

namespace podvs {
namespace {

constexpr uint32_t kOuterL3Offset = sizeof(rte_ether_hdr);
constexpr uint32_t kOuterL4Offset = kOuterL3Offset + sizeof(rte_ipv4_hdr);
constexpr uint32_t kMaxIpv4TotalLength = 0xffff;

// Full UDP checksum (RFC 768) over pseudo-header, UDP header and payload in every segment.
uint16_t udp_checksum_over_mbuf(const rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t udp_len) {
  const uint32_t sum =
      uint32_t{raw_cksum_mbuf(m, kOuterL4Offset, udp_len)} + rte_ipv4_phdr_cksum(ip, 0);
  const uint16_t cksum = static_cast<uint16_t>(~cksum_fold(sum));
  // A computed 0 is sent as all ones: 0 means "no checksum" in UDP.
  return cksum == 0 ? 0xffff : cksum;
}

}  // namespace

bool vxlan_encap(rte_mbuf* m, const VxlanOuterTemplate& outer, uint32_t inner_flow_hash,
                 bool udp_checksum) {
  const uint32_t ip_len = rte_pktmbuf_pkt_len(m) + kVxlanOverhead - kOuterL3Offset;
  if (ip_len > kMaxIpv4TotalLength) return false;
  // rte_pktmbuf_prepend leaves the mbuf untouched when the headroom is too small.
  auto* h = reinterpret_cast<VxlanOuterHeaders*>(rte_pktmbuf_prepend(m, kVxlanOverhead));
  if (h == nullptr) return false;
  std::memcpy(h, &outer.hdr, sizeof(*h));

  const rte_be16_t total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len));
  h->ip.total_length = total_length;
  // The template's sum has total length 0; adding the field as stored (memory word order, like
  // rte_raw_cksum) completes it. Same result as rte_ipv4_cksum over the whole header.
  h->ip.hdr_checksum =
      static_cast<uint16_t>(~cksum_fold(uint32_t{outer.ip_partial_sum} + total_length));

  const uint16_t udp_len = static_cast<uint16_t>(ip_len - sizeof(rte_ipv4_hdr));
  h->udp.src_port = rte_cpu_to_be_16(vxlan_source_port(inner_flow_hash));
  h->udp.dgram_len = rte_cpu_to_be_16(udp_len);
  h->udp.dgram_cksum = 0;
  if (udp_checksum) h->udp.dgram_cksum = udp_checksum_over_mbuf(m, &h->ip, udp_len);
  return true;
}

}  // namespace podvs
