#include "perf/pktgen/new_flows.h"

namespace podvs::pktgen {

namespace {

constexpr uint32_t kSrcIpOffset = 26;  // Ethernet 14 + 12 into the IPv4 header
constexpr uint32_t kDstIpOffset = 30;
constexpr uint32_t kIpChecksumOffset = 24;
constexpr uint32_t kSrcPortOffset = 34;  // Ethernet 14 + IPv4 20
constexpr uint32_t kDstPortOffset = 36;

// RFC 1624 eqn. 3 for a run of 16-bit words: HC' = ~(~HC + ~m + m'), folded.
class ChecksumUpdate {
 public:
  explicit ChecksumUpdate(uint16_t checksum) : sum_(static_cast<uint16_t>(~checksum)) {}
  void replace(uint16_t old_word, uint16_t new_word) {
    sum_ += static_cast<uint16_t>(~old_word);
    sum_ += new_word;
  }
  void replace32(uint32_t old_value, uint32_t new_value) {
    replace(static_cast<uint16_t>(old_value >> 16), static_cast<uint16_t>(new_value >> 16));
    replace(static_cast<uint16_t>(old_value), static_cast<uint16_t>(new_value));
  }
  uint16_t result() const {
    uint32_t s = (sum_ & 0xffff) + (sum_ >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
  }

 private:
  uint32_t sum_;
};

}  // namespace

void rewrite_tuple(uint8_t* frame, L4 proto, const FlowTuple& from, const FlowTuple& to) {
  ChecksumUpdate ip(get_be16(frame + kIpChecksumOffset));
  ip.replace32(from.src_ip, to.src_ip);
  ip.replace32(from.dst_ip, to.dst_ip);
  put_be16(frame + kIpChecksumOffset, ip.result());

  // The L4 checksum covers the addresses through the pseudo header, and the ports.
  const uint32_t l4_checksum_at = stamp_offsets(proto).checksum;
  ChecksumUpdate l4(get_be16(frame + l4_checksum_at));
  l4.replace32(from.src_ip, to.src_ip);
  l4.replace32(from.dst_ip, to.dst_ip);
  l4.replace(from.src_port, to.src_port);
  l4.replace(from.dst_port, to.dst_port);
  uint16_t checksum = l4.result();
  if (proto == L4::udp && checksum == 0) checksum = 0xffff;  // 0 means "no checksum" in UDP
  put_be16(frame + l4_checksum_at, checksum);

  put_be32(frame + kSrcIpOffset, to.src_ip);
  put_be32(frame + kDstIpOffset, to.dst_ip);
  put_be16(frame + kSrcPortOffset, to.src_port);
  put_be16(frame + kDstPortOffset, to.dst_port);
}

NewFlows::NewFlows(const FlowSet& set, L4 proto)
    : set_(set), proto_(proto), first_(set.tuple(0)), current_(first_) {}

void NewFlows::advance() {
  const FlowRanges& r = set_.ranges();
  if (++sport_i_ < set_.src_ports()) {
    ++current_.src_port;
    return;
  }
  sport_i_ = 0;
  current_.src_port = r.src_port;
  if (++dport_i_ < set_.dst_ports()) {
    ++current_.dst_port;
    return;
  }
  dport_i_ = 0;
  current_.dst_port = r.dst_port;
  if (++sip_i_ < set_.src_ips()) {
    ++current_.src_ip;
    return;
  }
  sip_i_ = 0;
  current_.src_ip = r.src_ip;
  ++current_.dst_ip;  // the slowest digit: FlowSet::init made the ranges hold size() tuples
}

}  // namespace podvs::pktgen
