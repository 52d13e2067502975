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

class PacketBuilder {
 public:
  PacketBuilder& eth(const std::string& src, const std::string& dst, uint16_t type = 0x0800);
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, uint8_t proto,
                      uint8_t ttl = 64);
  PacketBuilder& udp(uint16_t sport, uint16_t dport, size_t payload = 18);
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, size_t payload = 6);
  PacketBuilder& icmp_echo(uint16_t id, uint16_t seq, size_t payload = 18);
  PacketBuilder& arp(uint16_t op, const std::string& sha, const std::string& spa,
                     const std::string& tha, const std::string& tpa);
  PacketBuilder& fragment_offset(uint16_t offset_8byte_units);

  // The finished frame: IPv4 total length and header checksum, L4 lengths and checksums.
  std::vector<uint8_t> bytes() const;

 private:
  std::vector<uint8_t> eth_;
  std::vector<uint8_t> l3_;  // IPv4 header or ARP body
  std::vector<uint8_t> l4_;
  bool is_ipv4_ = false;
  uint16_t frag_ = 0;
};

// A single-segment mbuf holding `frame`.
rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<uint8_t>& frame);
std::vector<uint8_t> from_mbuf(const rte_mbuf* m);

}  // namespace podvs::test
