#include "vswitch/nat/nat_rewrite.h"

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "base/ipv4_header.h"
#include "vswitch/nat/ip_rewrite.h"

namespace podvs {
namespace {

// ICMP errors that quote the packet they are about and that NAT translates (RFC 792, 5508).
constexpr uint8_t kIcmpDestUnreachable = 3;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpParameterProblem = 12;
// RFC 792: an error quotes the IPv4 header and at least the first 64 bits of its payload, where
// TCP, UDP and ICMP echo keep their ports or identifier.
constexpr uint32_t kQuotedL4 = 8;
// parse_packet checked that a first fragment holds the whole minimum TCP (20 bytes), UDP or ICMP
// (8) header; rewrite_fields reads no further than that.
constexpr uint32_t kParsedL4 = sizeof(rte_tcp_hdr);

uint32_t ihl_of(const uint8_t* ip) {
  return ipv4_header_len(reinterpret_cast<const rte_ipv4_hdr*>(ip));
}

bool is_echo(uint8_t icmp_type) {
  return icmp_type == RTE_IP_ICMP_ECHO_REQUEST || icmp_type == RTE_IP_ICMP_ECHO_REPLY;
}

// The tuple of the IPv4 packet at `ip`, which holds at least kQuotedL4 bytes of L4 header when it
// is a first fragment.
std::optional<ConnTuple> tuple_at(const uint8_t* ip) {
  const auto* hdr = reinterpret_cast<const rte_ipv4_hdr*>(ip);
  if (!ipv4_has_l4_header(hdr)) return std::nullopt;
  const uint8_t* l4 = ip + ihl_of(ip);
  ConnTuple t{hdr->src_addr, hdr->dst_addr, 0, 0, hdr->next_proto_id};
  switch (t.proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
      t.src_port = load16(l4);
      t.dst_port = load16(l4 + sizeof(rte_be16_t));
      return t;
    case IPPROTO_ICMP:
      if (!is_echo(l4[0])) return std::nullopt;
      t.src_port = t.dst_port = load16(l4 + offsetof(rte_icmp_hdr, icmp_ident));
      return t;
    default:
      return std::nullopt;
  }
}

// Where the packet quoted by an ICMP error sits, as offsets from the outer IPv4 header.
struct Quoted {
  uint32_t icmp = 0;    // the ICMP header
  uint32_t ip = 0;      // the quoted IPv4 header
  uint32_t l4_len = 0;  // quoted L4 bytes in the first segment
  ConnTuple tuple;      // of the quoted packet, as quoted
};

std::optional<Quoted> find_quoted(const rte_mbuf* m, const rte_ipv4_hdr* ip) {
  const auto* outer = reinterpret_cast<const uint8_t*>(ip);
  if (ip->next_proto_id != IPPROTO_ICMP || !ipv4_has_l4_header(ip)) return std::nullopt;
  const auto in_segment =
      static_cast<uint32_t>(rte_pktmbuf_mtod(m, const uint8_t*) + rte_pktmbuf_data_len(m) - outer);
  const uint32_t len = std::min<uint32_t>(rte_be_to_cpu_16(ip->total_length), in_segment);
  Quoted q;
  q.icmp = ihl_of(outer);
  q.ip = q.icmp + sizeof(rte_icmp_hdr);
  if (len < q.ip + sizeof(rte_ipv4_hdr) + kQuotedL4) return std::nullopt;
  const uint8_t type = outer[q.icmp];
  if (!is_icmp_error_type(type)) return std::nullopt;
  const uint8_t* inner = outer + q.ip;
  const uint32_t inner_ihl = ihl_of(inner);
  if ((inner[0] >> 4) != 4 || inner_ihl < sizeof(rte_ipv4_hdr) ||
      len < q.ip + inner_ihl + kQuotedL4)
    return std::nullopt;
  q.l4_len = len - q.ip - inner_ihl;
  const auto tuple = tuple_at(inner);
  if (!tuple) return std::nullopt;
  q.tuple = *tuple;
  return q;
}

}  // namespace

bool is_icmp_error_type(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}

std::optional<ConnTuple> packet_tuple(const rte_ipv4_hdr* ip) {
  return tuple_at(reinterpret_cast<const uint8_t*>(ip));
}

void rewrite_src(rte_ipv4_hdr* ip, rte_be32_t addr, rte_be16_t port, L4Checksum l4_checksum) {
  rewrite_endpoint(rewrite_fields(reinterpret_cast<uint8_t*>(ip), kParsedL4, l4_checksum),
                   Endpoint::src, addr, port);
}

void rewrite_dst(rte_ipv4_hdr* ip, rte_be32_t addr, rte_be16_t port, L4Checksum l4_checksum) {
  rewrite_endpoint(rewrite_fields(reinterpret_cast<uint8_t*>(ip), kParsedL4, l4_checksum),
                   Endpoint::dst, addr, port);
}

void nat_translate(rte_ipv4_hdr* ip, const ConnEntry& entry, ConnDir dir, L4Checksum l4_checksum) {
  if (!entry.nat().any()) return;
  const ConnTuple to = reversed(entry.tuple(opposite(dir)));
  rewrite_src(ip, to.src_ip, to.src_port, l4_checksum);
  rewrite_dst(ip, to.dst_ip, to.dst_port, l4_checksum);
}

std::optional<ConnTuple> icmp_error_inner_tuple(const rte_mbuf* m, const rte_ipv4_hdr* ip) {
  const auto q = find_quoted(m, ip);
  if (!q) return std::nullopt;
  return reversed(q->tuple);
}

bool nat_translate_icmp_error(const rte_mbuf* m, rte_ipv4_hdr* ip, const ConnEntry& entry,
                              ConnDir dir) {
  const auto q = find_quoted(m, ip);
  if (!q) return false;
  if (!entry.nat().any()) return true;
  // The quoted packet went the other way, translated: it becomes what its sender sent.
  const ConnTuple& sent = entry.tuple(opposite(dir));
  auto* outer = reinterpret_cast<uint8_t*>(ip);
  const bool from_peer = ip->src_addr == q->tuple.dst_ip;

  const RewriteFields inner = rewrite_fields(outer + q->ip, q->l4_len);
  uint32_t changed = rewrite_endpoint(inner, Endpoint::src, sent.src_ip, sent.src_port);
  changed += rewrite_endpoint(inner, Endpoint::dst, sent.dst_ip, sent.dst_port);
  uint8_t* icmp_cksum = outer + q->icmp + offsetof(rte_icmp_hdr, icmp_cksum);
  const uint16_t cksum = cksum_adjust(load16(icmp_cksum), changed);
  std::memcpy(icmp_cksum, &cksum, sizeof(cksum));

  // The ICMP checksum does not cover the outer addresses: rewrite them alone.
  const RewriteFields outer_fields = rewrite_fields(outer, 0);
  rewrite_endpoint(outer_fields, Endpoint::dst, sent.src_ip, 0);
  if (from_peer) rewrite_endpoint(outer_fields, Endpoint::src, sent.dst_ip, 0);
  return true;
}

}  // namespace podvs
