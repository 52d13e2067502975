// podvs-pktgen's Service (DNAT) modes: --new-flows rewrites each frame to a tuple of its own with
// checksums as a fresh template would have them, in FlowSet order, never twice; --expect-dst
// tells a translated frame from an untranslated or mis-checksummed one.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <tuple>
#include <vector>

#include "perf/pktgen/dst_check.h"
#include "perf/pktgen/flows.h"
#include "perf/pktgen/frame.h"
#include "perf/pktgen/new_flows.h"
#include "perf/pktgen/rx_stats.h"

namespace podvs::pktgen {
namespace {

constexpr uint32_t kPodIp = 0x0af40002;       // 10.244.0.2
constexpr uint32_t kClusterIp = 0x0a60000a;   // 10.96.0.10
constexpr uint32_t kEndpointIp = 0x0af40003;  // 10.244.0.3
constexpr uint32_t kMagic = kMagicMeasured;

// A whole frame of `len` bytes (no FCS) as the transmit loop writes it for `tuple`.
std::vector<uint8_t> frame_for(const FlowTuple& tuple, L4 proto, uint32_t seq,
                               uint16_t len = kMinFrameLen) {
  FrameSpec spec;
  spec.proto = proto;
  spec.frame_len = len;
  std::vector<uint8_t> frame(len, 0);
  write_frame(frame.data(), make_template(spec, tuple, 0), proto, kMagic, seq, 0x01020304);
  return frame;
}

TEST(PktgenNewFlows, RewrittenFrameEqualsAFreshTemplatesFrame) {
  const FlowTuple from{kPodIp, kClusterIp, 1024, 5000};
  const std::vector<FlowTuple> targets = {{kPodIp, kClusterIp, 1025, 5000},
                                          {kPodIp, kClusterIp + 127, 65535, 5000},
                                          {0xc0000201, 0x0a600101, 40000, 30080},
                                          {0xffffffff, 0, 1, 65535},
                                          {0, 0xffffffff, 65535, 1},
                                          {kPodIp, kClusterIp, 1024, 5000}};
  for (L4 proto : {L4::udp, L4::tcp}) {
    for (uint32_t seq : {0u, 1u, 0xfffeu, 0xffffffffu}) {
      for (const FlowTuple& to : targets) {
        std::vector<uint8_t> frame = frame_for(from, proto, seq);
        rewrite_tuple(frame.data(), proto, from, to);
        EXPECT_EQ(frame, frame_for(to, proto, seq))
            << "proto " << static_cast<int>(proto) << " seq " << seq << " to port " << to.src_port;
      }
    }
  }
}

TEST(PktgenNewFlows, TuplesFollowFlowSetOrderOnceEach) {
  FlowRanges r;
  r.src_ip = kPodIp;
  r.dst_ip = kClusterIp;
  r.src_port = 65530;  // 6 source ports, then 2 destination ports, 3 sources, 4 destinations
  r.dst_port = 5000;
  r.dst_port_count = 2;
  r.src_ip_count = 3;
  r.dst_ip_count = 4;
  FlowSet set;
  ASSERT_EQ(set.init(r, 6 * 2 * 3 * 4), "");
  NewFlows flows(set, L4::udp);
  std::set<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>> seen;
  for (uint32_t k = 0; k < set.size(); ++k) {
    ASSERT_EQ(flows.remaining(), set.size() - k);
    std::vector<uint8_t> frame = frame_for(set.tuple(0), L4::udp, k);
    flows.next(frame.data());
    const FlowTuple want = set.tuple(k);
    EXPECT_EQ(frame, frame_for(want, L4::udp, k)) << "packet " << k;
    seen.insert({want.src_ip, want.dst_ip, want.src_port, want.dst_port});
  }
  EXPECT_EQ(flows.remaining(), 0u);
  EXPECT_EQ(seen.size(), set.size());
}

// What a switch's DNAT to the endpoint does to a frame: new destination, checksums recomputed.
std::vector<uint8_t> translated(L4 proto, uint16_t len = kMinFrameLen) {
  return frame_for({kPodIp, kEndpointIp, 1024, 6000}, proto, 7, len);
}

TEST(PktgenExpectDst, TranslatedFramesPass) {
  const ExpectedDst want{kEndpointIp, 6000, 6000};
  for (L4 proto : {L4::udp, L4::tcp}) {
    for (uint16_t len : {uint16_t{kMinFrameLen}, uint16_t{508}, uint16_t{kMaxFrameLen}}) {
      const std::vector<uint8_t> f = translated(proto, len);
      EXPECT_EQ(check_dst(f.data(), len, want), DstCheck::ok);
    }
  }
}

TEST(PktgenExpectDst, PortsOfARangePass) {
  const ExpectedDst want{kEndpointIp, 6000, 6127};
  for (uint16_t port : {6000, 6001, 6127}) {
    const std::vector<uint8_t> f = frame_for({kPodIp, kEndpointIp, 1024, port}, L4::udp, 7);
    EXPECT_EQ(check_dst(f.data(), kMinFrameLen, want), DstCheck::ok) << port;
  }
  for (uint16_t port : {5999, 6128}) {
    const std::vector<uint8_t> f = frame_for({kPodIp, kEndpointIp, 1024, port}, L4::udp, 7);
    EXPECT_EQ(check_dst(f.data(), kMinFrameLen, want), DstCheck::wrong_dst) << port;
  }
}

TEST(PktgenExpectDst, UntranslatedFramesAreWrongDst) {
  const ExpectedDst want{kEndpointIp, 6000, 6000};
  const std::vector<uint8_t> to_cluster_ip =
      frame_for({kPodIp, kClusterIp, 1024, 5000}, L4::udp, 7);
  EXPECT_EQ(check_dst(to_cluster_ip.data(), kMinFrameLen, want), DstCheck::wrong_dst);
  // Address translated, port not: still wrong.
  const std::vector<uint8_t> port_kept = frame_for({kPodIp, kEndpointIp, 1024, 5000}, L4::udp, 7);
  EXPECT_EQ(check_dst(port_kept.data(), kMinFrameLen, want), DstCheck::wrong_dst);
}

TEST(PktgenExpectDst, StaleChecksumsAreCaught) {
  const ExpectedDst want{kEndpointIp, 6000, 6000};
  // A NAT that rewrote the destination but not the checksums.
  for (L4 proto : {L4::udp, L4::tcp}) {
    std::vector<uint8_t> f = frame_for({kPodIp, kClusterIp, 1024, 5000}, proto, 7);
    put_be32(f.data() + 30, kEndpointIp);
    put_be16(f.data() + 36, 6000);
    EXPECT_EQ(check_dst(f.data(), kMinFrameLen, want), DstCheck::bad_checksum);
    // The IPv4 header fixed, the L4 checksum still stale.
    std::vector<uint8_t> good = translated(proto);
    f[24] = good[24];
    f[25] = good[25];
    EXPECT_EQ(check_dst(f.data(), kMinFrameLen, want), DstCheck::bad_checksum);
  }
  // A payload byte flipped after the stamp (the checksum covers the whole datagram).
  std::vector<uint8_t> f = translated(L4::udp, 508);
  f[400] ^= 0x10;
  EXPECT_EQ(check_dst(f.data(), 508, want), DstCheck::bad_checksum);
}

TEST(PktgenExpectDst, UdpWithoutChecksumPasses) {
  std::vector<uint8_t> f = translated(L4::udp);
  put_be16(f.data() + 40, 0);
  EXPECT_EQ(check_dst(f.data(), kMinFrameLen, {kEndpointIp, 6000, 6000}), DstCheck::ok);
}

TEST(PktgenExpectDst, RxStatsCountsOnlyTranslatedFramesAsReceived) {
  RxStats stats(1, 16, 1, std::nullopt, ExpectedDst{kEndpointIp, 6000, 6000});
  const std::vector<uint8_t> good = translated(L4::udp);
  const std::vector<uint8_t> untranslated = frame_for({kPodIp, kClusterIp, 1024, 5000}, L4::udp, 8);
  std::vector<uint8_t> stale = translated(L4::udp);
  stale[50] ^= 1;  // the sequence number changed after the checksum was written
  stats.account(good.data(), kMinFrameLen, 0);
  stats.account(untranslated.data(), kMinFrameLen, 0);
  stats.account(stale.data(), kMinFrameLen, 0);
  EXPECT_EQ(stats.counters().measured, 1u);
  EXPECT_EQ(stats.counters().wrong_dst, 1u);
  EXPECT_EQ(stats.counters().bad_checksum, 1u);
}

}  // namespace
}  // namespace podvs::pktgen
