// Builds test frames byte by byte (Katran-style fluent builder): the one place tests and fuzz
// seeds make packets. Lengths and checksums are filled in by bytes() unless a test overrides
// them afterwards to make a malformed frame.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace podvs::test {

std::vector<uint8_t> mac(const std::string& text);  // "aa:bb:cc:dd:ee:ff"
uint32_t ip(const std::string& text);               // host byte order

// TCP header flags, for PacketBuilder::tcp_flags (combine them: kTcpSyn | kTcpAck).
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                         kTcpAck = 0x10, kTcpCwr = 0x80;

class PacketBuilder {
 public:
  PacketBuilder& eth(const std::string& src, const std::string& dst, uint16_t type = 0x0800);
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, uint8_t proto,
                      uint8_t ttl = 64);
  PacketBuilder& udp(uint16_t sport, uint16_t dport, size_t payload = 18);
  // A TCP segment with the SYN flag; tcp_flags() afterwards sets others.
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, size_t payload = 6);
  PacketBuilder& tcp_flags(uint8_t flags);  // after tcp(): the whole flags byte (kTcpFin...)
  PacketBuilder& tcp_seq(uint32_t seq);     // after tcp(): the sequence number (default 1000)
  PacketBuilder& tcp_ack(uint32_t ack);     // after tcp(): the acknowledgment number (default 0)
  // After tcp(): these bytes as the payload instead of the pattern.
  PacketBuilder& tcp_payload(const std::vector<uint8_t>& payload);
  PacketBuilder& icmp_echo(uint16_t id, uint16_t seq, size_t payload = 18);
  PacketBuilder& arp(uint16_t op, const std::string& sha, const std::string& spa,
                     const std::string& tha, const std::string& tpa);
  PacketBuilder& fragment_offset(uint16_t offset_8byte_units);
  PacketBuilder& ip_id(uint16_t id);
  PacketBuilder& dont_fragment();
  PacketBuilder& more_fragments();
  PacketBuilder& ip_options(const std::vector<uint8_t>& options);  // a multiple of 4 bytes
  // UDP with the given payload (a VXLAN header and inner frame, say) instead of a pattern.
  PacketBuilder& udp_payload(uint16_t sport, uint16_t dport, const std::vector<uint8_t>& payload);
  PacketBuilder& no_udp_checksum();  // leave the UDP checksum 0 ("none", RFC 768)
  // Any ICMP message: type, code, the header's second word, then the payload.
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest_of_header,
                      const std::vector<uint8_t>& payload);

  // The finished frame: IPv4 total length and header checksum, L4 lengths and checksums.
  std::vector<uint8_t> bytes() const;

 private:
  std::vector<uint8_t> eth_;
  std::vector<uint8_t> l3_;  // IPv4 header or ARP body
  std::vector<uint8_t> l4_;
  std::vector<uint8_t> ip_options_;
  bool is_ipv4_ = false;
  bool is_tcp_ = false;  // l4_ is a TCP header and payload
  bool udp_checksum_ = true;
  uint16_t frag_ = 0;
  uint16_t ip_flags_ = 0;  // DF and MF, in the fragment field's bit positions
};

// A single-segment mbuf holding `frame`.
rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<uint8_t>& frame);
std::vector<uint8_t> from_mbuf(const rte_mbuf* m);
// `frame` as a chain of mbufs holding `seg_len` bytes each (the last one the rest).
rte_mbuf* to_chain(rte_mempool* pool, const std::vector<uint8_t>& frame, uint16_t seg_len);
// Every byte of a packet, across its segments.
std::vector<uint8_t> chain_bytes(const rte_mbuf* m);

}  // namespace podvs::test
