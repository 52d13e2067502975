#include "tests/unit/packet_builder.h"

#include <arpa/inet.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "base/net_types.h"

namespace podvs::test {
namespace {

void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}
void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  put16(v, at, static_cast<uint16_t>(x >> 16));
  put16(v, at + 2, static_cast<uint16_t>(x));
}
void push16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void push32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}
void push_bytes(std::vector<uint8_t>& v, const std::vector<uint8_t>& b) {
  v.insert(v.end(), b.begin(), b.end());
}

uint16_t ones_complement(const uint8_t* data, size_t len, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len & 1) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

std::vector<uint8_t> mac(const std::string& text) {
  auto m = MacAddr::parse(text);
  if (!m) throw std::invalid_argument("bad MAC " + text);
  return {m->bytes.begin(), m->bytes.end()};
}

uint32_t ip(const std::string& text) {
  auto a = parse_ipv4(text);
  if (!a) throw std::invalid_argument("bad IP " + text);
  return *a;
}

PacketBuilder& PacketBuilder::eth(const std::string& src, const std::string& dst, uint16_t type) {
  eth_.clear();
  push_bytes(eth_, mac(dst));
  push_bytes(eth_, mac(src));
  push16(eth_, type);
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(const std::string& src, const std::string& dst, uint8_t proto,
                                   uint8_t ttl) {
  is_ipv4_ = true;
  l3_ = {0x45, 0, 0, 0, 0x12, 0x34, 0, 0, ttl, proto, 0, 0};
  push32(l3_, ip(src));
  push32(l3_, ip(dst));
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport, size_t payload) {
  is_tcp_ = false;
  l4_.clear();
  push16(l4_, sport);
  push16(l4_, dport);
  push16(l4_, static_cast<uint16_t>(8 + payload));
  push16(l4_, 0);
  for (size_t i = 0; i < payload; ++i) l4_.push_back(static_cast<uint8_t>(i));
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport, size_t payload) {
  is_tcp_ = true;
  l4_.clear();
  push16(l4_, sport);
  push16(l4_, dport);
  push32(l4_, 1000);       // seq
  push32(l4_, 0);          // ack
  l4_.push_back(0x50);     // data offset 5 words
  l4_.push_back(kTcpSyn);  // flags (tcp_flags)
  push16(l4_, 65535);
  push16(l4_, 0);  // checksum
  push16(l4_, 0);  // urgent
  for (size_t i = 0; i < payload; ++i) l4_.push_back(static_cast<uint8_t>(i));
  return *this;
}

PacketBuilder& PacketBuilder::tcp_flags(uint8_t flags) {
  if (!is_tcp_) throw std::logic_error("tcp_flags() needs a TCP segment: call tcp() first");
  l4_[13] = flags;
  return *this;
}

PacketBuilder& PacketBuilder::tcp_seq(uint32_t seq) {
  if (!is_tcp_) throw std::logic_error("tcp_seq() needs a TCP segment: call tcp() first");
  put32(l4_, 4, seq);
  return *this;
}

PacketBuilder& PacketBuilder::tcp_ack(uint32_t ack) {
  if (!is_tcp_) throw std::logic_error("tcp_ack() needs a TCP segment: call tcp() first");
  put32(l4_, 8, ack);
  return *this;
}

PacketBuilder& PacketBuilder::tcp_payload(const std::vector<uint8_t>& payload) {
  if (!is_tcp_) throw std::logic_error("tcp_payload() needs a TCP segment: call tcp() first");
  l4_.resize(20);
  push_bytes(l4_, payload);
  return *this;
}

PacketBuilder& PacketBuilder::icmp_echo(uint16_t id, uint16_t seq, size_t payload) {
  is_tcp_ = false;
  l4_ = {8, 0, 0, 0};
  push16(l4_, id);
  push16(l4_, seq);
  for (size_t i = 0; i < payload; ++i) l4_.push_back(static_cast<uint8_t>(i));
  return *this;
}

PacketBuilder& PacketBuilder::arp(uint16_t op, const std::string& sha, const std::string& spa,
                                  const std::string& tha, const std::string& tpa) {
  is_ipv4_ = false;
  is_tcp_ = false;
  l3_.clear();
  push16(l3_, 1);       // Ethernet
  push16(l3_, 0x0800);  // IPv4
  l3_.push_back(6);
  l3_.push_back(4);
  push16(l3_, op);
  push_bytes(l3_, mac(sha));
  push32(l3_, ip(spa));
  push_bytes(l3_, mac(tha));
  push32(l3_, ip(tpa));
  l4_.clear();
  return *this;
}

PacketBuilder& PacketBuilder::fragment_offset(uint16_t offset) {
  frag_ = offset;
  return *this;
}

PacketBuilder& PacketBuilder::ip_id(uint16_t id) {
  put16(l3_, 4, id);
  return *this;
}

PacketBuilder& PacketBuilder::dont_fragment() {
  ip_flags_ |= RTE_IPV4_HDR_DF_FLAG;
  return *this;
}

PacketBuilder& PacketBuilder::more_fragments() {
  ip_flags_ |= RTE_IPV4_HDR_MF_FLAG;
  return *this;
}

PacketBuilder& PacketBuilder::ip_options(const std::vector<uint8_t>& options) {
  if (options.size() % 4 != 0 || options.size() > 40)
    throw std::invalid_argument("IPv4 options must be 4-byte words, at most 40 bytes");
  ip_options_ = options;
  return *this;
}

PacketBuilder& PacketBuilder::udp_payload(uint16_t sport, uint16_t dport,
                                          const std::vector<uint8_t>& payload) {
  udp(sport, dport, 0);
  push_bytes(l4_, payload);
  put16(l4_, 4, static_cast<uint16_t>(l4_.size()));
  return *this;
}

PacketBuilder& PacketBuilder::no_udp_checksum() {
  udp_checksum_ = false;
  return *this;
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest_of_header,
                                   const std::vector<uint8_t>& payload) {
  is_tcp_ = false;
  l4_ = {type, code, 0, 0};
  push32(l4_, rest_of_header);
  push_bytes(l4_, payload);
  return *this;
}

std::vector<uint8_t> PacketBuilder::bytes() const {
  std::vector<uint8_t> frame = eth_;
  if (!is_ipv4_) {
    push_bytes(frame, l3_);
    return frame;
  }
  std::vector<uint8_t> ip = l3_;
  push_bytes(ip, ip_options_);
  ip[0] = static_cast<uint8_t>(0x40 | ip.size() / 4);
  put16(ip, 2, static_cast<uint16_t>(ip.size() + l4_.size()));
  put16(ip, 6, ip_flags_ | frag_);
  put16(ip, 10, ones_complement(ip.data(), ip.size()));
  std::vector<uint8_t> l4 = l4_;
  const uint8_t proto = ip[9];
  if (frag_ == 0 && (proto == IPPROTO_TCP || (proto == IPPROTO_UDP && udp_checksum_))) {
    // Pseudo-header sum: addresses, protocol, L4 length.
    uint32_t sum = 0;
    for (size_t i = 12; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
    sum += proto + static_cast<uint32_t>(l4.size());
    const size_t at = proto == IPPROTO_UDP ? 6 : 16;
    put16(l4, at, ones_complement(l4.data(), l4.size(), sum));
  } else if (frag_ == 0 && proto == IPPROTO_ICMP && l4.size() >= 4) {
    put16(l4, 2, ones_complement(l4.data(), l4.size()));
  }
  push_bytes(frame, ip);
  push_bytes(frame, l4);
  return frame;
}

rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) throw std::runtime_error("mbuf pool empty");
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (data == nullptr) throw std::runtime_error("frame too large for one mbuf");
  std::memcpy(data, frame.data(), frame.size());
  return m;
}

std::vector<uint8_t> from_mbuf(const rte_mbuf* m) {
  const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
  return {data, data + rte_pktmbuf_data_len(m)};
}

}  // namespace podvs::test

namespace podvs::test {

rte_mbuf* to_chain(rte_mempool* pool, const std::vector<uint8_t>& frame, uint16_t seg_len) {
  rte_mbuf* head = nullptr;
  for (size_t off = 0; off < frame.size(); off += seg_len) {
    const size_t n = std::min<size_t>(seg_len, frame.size() - off);
    rte_mbuf* seg =
        to_mbuf(pool, std::vector<uint8_t>(frame.begin() + off, frame.begin() + off + n));
    if (head == nullptr) {
      head = seg;
    } else if (rte_pktmbuf_chain(head, seg) != 0) {
      rte_pktmbuf_free(seg);
      rte_pktmbuf_free(head);
      throw std::runtime_error("too many segments for one chain");
    }
  }
  return head;
}

std::vector<uint8_t> chain_bytes(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  for (; m != nullptr; m = m->next) {
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    out.insert(out.end(), data, data + rte_pktmbuf_data_len(m));
  }
  return out;
}

}  // namespace podvs::test
