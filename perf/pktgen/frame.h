// Frames the generator sends: Ethernet + IPv4 + UDP (or TCP with SYN|ACK and no connection) and a
// stamp that lets the receiver recognise its own packets whatever the switch rewrote (MACs, TTL):
//
//   magic  identifies pktgen packets and says whether they were sent in warm-up or measurement
//   flow   flow index, to track per-flow sequence numbers
//   seq    per-flow sequence number (wraps; compared in serial-number arithmetic)
//   tsc    low 32 bits of the TSC at send time (latencies up to 2^32 cycles, 1.6 s at 2.6 GHz)
//
// A 64-byte frame (60 bytes without FCS) leaves 18 bytes after a UDP header and only 6 after a TCP
// header, so the two protocols place the stamp differently, all within the first 58 bytes:
//   UDP: payload = magic, flow, seq, tsc (16 bytes)
//   TCP: sequence number = seq, acknowledgement number = tsc, window:urgent pointer = flow (the
//        URG flag is clear, so the urgent pointer means nothing), payload = magic (4 bytes)
// Bytes after the first 58 are zero. Checksums (IPv4 and L4) are always correct: the L4 checksum
// is finished per packet from a per-flow partial sum plus the three per-packet words.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "perf/pktgen/flows.h"

namespace podvs::pktgen {

inline constexpr uint32_t kMagicMeasured = 0x70677631;  // "pgv1"
inline constexpr uint32_t kMagicWarmup = 0x70677730;    // "pgw0"
// Ethernet 14 + IPv4 20 + UDP 8 + 16-byte stamp, or Ethernet 14 + IPv4 20 + TCP 20 + 4-byte magic.
inline constexpr uint32_t kStampedLen = 58;
inline constexpr uint32_t kMinFrameLen = 60;    // 64-byte frame without its FCS
inline constexpr uint32_t kMaxFrameLen = 1514;  // 1518-byte frame without its FCS
inline constexpr uint8_t kTcpSynAck = 0x12;

enum class L4 : uint8_t { udp = 17, tcp = 6 };

struct FrameSpec {
  rte_ether_addr src_mac{};
  rte_ether_addr dst_mac{};
  L4 proto = L4::udp;
  uint16_t frame_len = kMinFrameLen;  // bytes in the mbuf, without FCS
  uint8_t ttl = 64;
};

// Everything the transmit loop needs for one flow, in one cache line: flows are sent round-robin,
// so the templates are read sequentially and the hardware prefetcher hides the misses of large
// flow counts.
struct alignas(64) FlowTemplate {
  uint8_t bytes[kStampedLen];  // headers and stamp, with magic, seq and tsc zero
  uint16_t l4_sum;             // folded sum of the words the L4 checksum covers, per-packet words 0
  uint32_t next_seq;
};
static_assert(sizeof(FlowTemplate) == 64);

struct StampOffsets {
  uint32_t magic, seq, tsc, checksum;
};
inline constexpr StampOffsets kUdpStamp{42, 50, 54, 40};
inline constexpr StampOffsets kTcpStamp{54, 38, 42, 50};
inline constexpr StampOffsets stamp_offsets(L4 proto) {
  return proto == L4::udp ? kUdpStamp : kTcpStamp;
}

FlowTemplate make_template(const FrameSpec& spec, const FlowTuple& tuple, uint32_t flow);

inline void put_be16(uint8_t* p, uint16_t v) {
  const rte_be16_t be = rte_cpu_to_be_16(v);
  std::memcpy(p, &be, sizeof(be));
}
inline void put_be32(uint8_t* p, uint32_t v) {
  const rte_be32_t be = rte_cpu_to_be_32(v);
  std::memcpy(p, &be, sizeof(be));
}
inline uint16_t get_be16(const uint8_t* p) {
  rte_be16_t be;
  std::memcpy(&be, p, sizeof(be));
  return rte_be_to_cpu_16(be);
}
inline uint32_t get_be32(const uint8_t* p) {
  rte_be32_t be;
  std::memcpy(&be, p, sizeof(be));
  return rte_be_to_cpu_32(be);
}

// Copies the template into `frame` (which must hold the zero-filled rest of the frame), writes
// the per-packet words and finishes the L4 checksum.
inline void write_frame(uint8_t* frame, const FlowTemplate& t, L4 proto, uint32_t magic,
                        uint32_t seq, uint32_t tsc) {
  const StampOffsets at = stamp_offsets(proto);
  std::memcpy(frame, t.bytes, kStampedLen);
  put_be32(frame + at.magic, magic);
  put_be32(frame + at.seq, seq);
  put_be32(frame + at.tsc, tsc);
  uint32_t sum = uint32_t{t.l4_sum} + (magic >> 16) + (magic & 0xffff) + (seq >> 16) +
                 (seq & 0xffff) + (tsc >> 16) + (tsc & 0xffff);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  uint16_t checksum = static_cast<uint16_t>(~sum);
  if (proto == L4::udp && checksum == 0) checksum = 0xffff;  // 0 means "no checksum" in UDP
  put_be16(frame + at.checksum, checksum);
}

struct Stamp {
  bool measured = false;  // false: sent during warm-up
  uint32_t flow = 0;
  uint32_t seq = 0;
  uint32_t tsc = 0;
};

// The stamp of a received frame, or nothing if the frame is not one of ours.
inline std::optional<Stamp> read_stamp(const uint8_t* frame, uint32_t len) {
  if (len < kStampedLen || get_be16(frame + 12) != RTE_ETHER_TYPE_IPV4 || frame[14] != 0x45)
    return std::nullopt;
  const uint8_t proto = frame[23];
  if (proto != static_cast<uint8_t>(L4::udp) && proto != static_cast<uint8_t>(L4::tcp))
    return std::nullopt;
  const StampOffsets at = stamp_offsets(static_cast<L4>(proto));
  const uint32_t magic = get_be32(frame + at.magic);
  if (magic != kMagicMeasured && magic != kMagicWarmup) return std::nullopt;
  Stamp s;
  s.measured = magic == kMagicMeasured;
  s.flow = proto == static_cast<uint8_t>(L4::udp)
               ? get_be32(frame + 46)
               : (uint32_t{get_be16(frame + 48)} << 16) | get_be16(frame + 52);
  s.seq = get_be32(frame + at.seq);
  s.tsc = get_be32(frame + at.tsc);
  return s;
}

}  // namespace podvs::pktgen
