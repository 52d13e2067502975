#include "perf/pktgen/dst_check.h"

#include "perf/pktgen/frame.h"

namespace podvs::pktgen {

namespace {

constexpr uint32_t kEthLen = 14;
constexpr uint32_t kIpLen = 20;
constexpr uint32_t kUdpChecksumOffset = 6;  // within the UDP header

// Ones' complement sum of big-endian 16-bit words (an odd last byte is padded with zero), not
// folded.
uint32_t sum_words(const uint8_t* p, uint32_t len) {
  uint32_t sum = 0;
  uint32_t i = 0;
  for (; i + 1 < len; i += 2) sum += get_be16(p + i);
  if (i < len) sum += uint32_t{p[i]} << 8;
  return sum;
}

bool sums_to_ones(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace

DstCheck check_dst(const uint8_t* frame, uint32_t len, const ExpectedDst& expected) {
  const uint8_t* ip = frame + kEthLen;
  const uint8_t* l4 = ip + kIpLen;
  const uint16_t port = get_be16(l4 + 2);
  if (get_be32(ip + 16) != expected.ip || port < expected.port_first || port > expected.port_last)
    return DstCheck::wrong_dst;

  const uint32_t ip_len = get_be16(ip + 2);
  if (ip_len < kIpLen || kEthLen + ip_len > len) return DstCheck::bad_checksum;
  if (!sums_to_ones(sum_words(ip, kIpLen))) return DstCheck::bad_checksum;

  const uint8_t proto = ip[9];
  const uint32_t l4_len = ip_len - kIpLen;
  if (proto == static_cast<uint8_t>(L4::udp) && get_be16(l4 + kUdpChecksumOffset) == 0)
    return DstCheck::ok;
  const uint32_t pseudo = sum_words(ip + 12, 8) + proto + l4_len;
  return sums_to_ones(pseudo + sum_words(l4, l4_len)) ? DstCheck::ok : DstCheck::bad_checksum;
}

}  // namespace podvs::pktgen
