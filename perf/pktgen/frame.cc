#include "perf/pktgen/frame.h"

namespace podvs::pktgen {

namespace {

// Ones' complement sum of big-endian 16-bit words, not folded; `len` is even here.
uint32_t sum_words(const uint8_t* p, uint32_t len) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < len; i += 2) sum += get_be16(p + i);
  return sum;
}

uint16_t fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

constexpr uint32_t kEthLen = 14;
constexpr uint32_t kIpLen = 20;
constexpr uint32_t kL4Start = kEthLen + kIpLen;

}  // namespace

FlowTemplate make_template(const FrameSpec& spec, const FlowTuple& tuple, uint32_t flow) {
  FlowTemplate t{};
  uint8_t* b = t.bytes;

  std::memcpy(b, spec.dst_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  std::memcpy(b + 6, spec.src_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  put_be16(b + 12, RTE_ETHER_TYPE_IPV4);

  uint8_t* ip = b + kEthLen;
  const uint16_t ip_len = static_cast<uint16_t>(spec.frame_len - kEthLen);
  ip[0] = 0x45;  // version 4, 20-byte header
  put_be16(ip + 2, ip_len);
  ip[8] = spec.ttl;
  ip[9] = static_cast<uint8_t>(spec.proto);
  put_be32(ip + 12, tuple.src_ip);
  put_be32(ip + 16, tuple.dst_ip);
  put_be16(ip + 10, static_cast<uint16_t>(~fold(sum_words(ip, kIpLen))));

  uint8_t* l4 = b + kL4Start;
  const uint16_t l4_len = static_cast<uint16_t>(ip_len - kIpLen);
  put_be16(l4, tuple.src_port);
  put_be16(l4 + 2, tuple.dst_port);
  if (spec.proto == L4::udp) {
    put_be16(l4 + 4, l4_len);
    put_be32(b + 46, flow);
  } else {
    l4[12] = 5 << 4;  // 20-byte header, no options
    l4[13] = kTcpSynAck;
    put_be16(l4 + 14, static_cast<uint16_t>(flow >> 16));
    put_be16(l4 + 18, static_cast<uint16_t>(flow & 0xffff));
  }

  // Pseudo header, then the L4 header and stamp; the zero bytes after the stamp add nothing.
  const uint32_t pseudo = (tuple.src_ip >> 16) + (tuple.src_ip & 0xffff) + (tuple.dst_ip >> 16) +
                          (tuple.dst_ip & 0xffff) + static_cast<uint8_t>(spec.proto) + l4_len;
  t.l4_sum = fold(pseudo + sum_words(l4, kStampedLen - kL4Start));
  t.next_seq = 0;
  return t;
}

}  // namespace podvs::pktgen
