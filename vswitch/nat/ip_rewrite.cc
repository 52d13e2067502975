#include "vswitch/nat/ip_rewrite.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>

#include "base/ipv4_header.h"

namespace podvs {
namespace {

constexpr size_t kIpChecksum = offsetof(rte_ipv4_hdr, hdr_checksum);
constexpr size_t kIpAddr[2] = {offsetof(rte_ipv4_hdr, src_addr), offsetof(rte_ipv4_hdr, dst_addr)};
constexpr size_t kIcmpIdent = offsetof(rte_icmp_hdr, icmp_ident);

// Writes `to` over the 16-bit word at `p` and returns the change, for the enclosing checksums.
uint32_t store16(uint8_t* p, uint16_t to) {
  const uint32_t delta = cksum_delta16(load16(p), to);
  std::memcpy(p, &to, sizeof(to));
  return delta;
}

uint32_t store32(uint8_t* p, uint32_t to) {
  const uint32_t delta = cksum_delta32(load32(p), to);
  std::memcpy(p, &to, sizeof(to));
  return delta;
}

}  // namespace

RewriteFields rewrite_fields(uint8_t* ip, uint32_t l4_len, L4Checksum l4_checksum) {
  RewriteFields f;
  f.ip = ip;
  const auto* hdr = reinterpret_cast<const rte_ipv4_hdr*>(ip);
  if ((hdr->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) return f;
  uint8_t* l4 = ip + ipv4_header_len(hdr);
  switch (hdr->next_proto_id) {
    case IPPROTO_TCP:
    case IPPROTO_UDP: {
      f.udp = hdr->next_proto_id == IPPROTO_UDP;
      f.pseudo_header = true;
      f.partial = l4_checksum == L4Checksum::partial;
      const size_t cksum =
          f.udp ? offsetof(rte_udp_hdr, dgram_cksum) : offsetof(rte_tcp_hdr, cksum);
      if (l4_len >= cksum + sizeof(uint16_t)) f.l4_cksum = l4 + cksum;
      // Both protocols open with the source and the destination port.
      if (l4_len >= 2 * sizeof(rte_be16_t)) {
        f.port[0] = l4;
        f.port[1] = l4 + sizeof(rte_be16_t);
      }
      break;
    }
    case IPPROTO_ICMP:
      // Only echo has an identifier; no ICMP checksum covers the addresses.
      if (l4_len >= kIcmpIdent + sizeof(rte_be16_t) &&
          (l4[0] == RTE_IP_ICMP_ECHO_REQUEST || l4[0] == RTE_IP_ICMP_ECHO_REPLY)) {
        f.l4_cksum = l4 + offsetof(rte_icmp_hdr, icmp_cksum);
        f.port[0] = f.port[1] = l4 + kIcmpIdent;
      }
      break;
    default:
      break;
  }
  return f;
}

uint32_t rewrite_endpoint(const RewriteFields& f, Endpoint which, rte_be32_t addr,
                          rte_be16_t port) {
  const auto end = static_cast<unsigned>(which);
  uint32_t changed = 0;
  uint32_t l4_delta = 0;      // the change of what the L4 checksum covers
  uint32_t pseudo_delta = 0;  // the change of the pseudo-header alone
  bool l4_changed = false;
  uint8_t* ip_addr = f.ip + kIpAddr[end];
  if (load32(ip_addr) != addr) {
    const uint32_t delta = store32(ip_addr, addr);
    changed += delta;
    changed += store16(f.ip + kIpChecksum, cksum_adjust(load16(f.ip + kIpChecksum), delta));
    if (f.pseudo_header) {
      l4_delta += delta;
      pseudo_delta += delta;
      l4_changed = true;
    }
  }
  if (f.port[end] != nullptr && load16(f.port[end]) != port) {
    const uint32_t delta = store16(f.port[end], port);
    changed += delta;
    l4_delta += delta;
    l4_changed = true;
  }
  if (f.partial) {
    // The field is a sum, not its complement: the address change is added to it directly.
    if (pseudo_delta != 0 && f.l4_cksum != nullptr)
      changed +=
          store16(f.l4_cksum, static_cast<uint16_t>(~cksum_adjust(
                                  static_cast<uint16_t>(~load16(f.l4_cksum)), pseudo_delta)));
    return changed;
  }
  const bool has_cksum = f.l4_cksum != nullptr && !(f.udp && load16(f.l4_cksum) == 0);
  if (l4_changed && has_cksum) {
    uint16_t cksum = cksum_adjust(load16(f.l4_cksum), l4_delta);
    // RFC 768: a computed UDP checksum of zero is sent as all ones, zero meaning "none".
    if (f.udp && cksum == 0) cksum = 0xffff;
    changed += store16(f.l4_cksum, cksum);
  }
  return changed;
}

}  // namespace podvs
