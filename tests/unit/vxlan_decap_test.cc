// Golden-packet tests of VXLAN decapsulation: each outer frame (built byte by byte) either yields
// exactly the inner frame, is left alone as not VXLAN, or is rejected with its drop reason.
#include "overlay/vxlan_decap.h"

#include <gtest/gtest.h>

#include "overlay/vxlan_encap.h"
#include "tests/unit/overlay_fixture.h"

namespace podvs::test {
namespace {

constexpr uint16_t kSourcePort = 55555;

// A VXLAN frame from the local node to the remote node (us, in these tests).
class OuterFrame {
 public:
  explicit OuterFrame(std::vector<uint8_t> vxlan_payload = concat(vxlan_header(kVni),
                                                                  inner_frame())) {
    b_.eth(kLocalMac, kNextHopMac)
        .ipv4(kLocalIp, kRemoteIp, IPPROTO_UDP, 64)
        .ip_id(0)
        .dont_fragment()
        .udp_payload(kSourcePort, kVxlanPort, vxlan_payload);
  }
  PacketBuilder* operator->() { return &b_; }
  std::vector<uint8_t> bytes() const { return b_.bytes(); }

 private:
  PacketBuilder b_;
};

class VxlanDecapTest : public OverlayTest {
 protected:
  VxlanDecapTest() {
    params_.vxlan.vni = kVni;
    params_.node_ip = be_ip(kRemoteIp);
  }

  // Decaps `frame`; a frame not decapped must come back untouched.
  DecapResult decap(const std::vector<uint8_t>& frame) {
    m_ = keep(to_mbuf(test_pool(), frame));
    const DecapResult r = vxlan_decap(m_, params_);
    if (r.kind != DecapResult::Kind::decapped) {
      EXPECT_EQ(from_mbuf(m_), frame);
    }
    return r;
  }
  void expect_rejected(const std::vector<uint8_t>& frame, DropReason reason) {
    const DecapResult r = decap(frame);
    EXPECT_EQ(r.kind, DecapResult::Kind::rejected);
    EXPECT_EQ(drop_reason_name(r.reason), drop_reason_name(reason));
  }
  void expect_not_vxlan(const std::vector<uint8_t>& frame) {
    EXPECT_EQ(decap(frame).kind, DecapResult::Kind::not_vxlan);
  }

  VxlanDecapParams params_;
  rte_mbuf* m_ = nullptr;
};

TEST_F(VxlanDecapTest, GoodFrameWithoutChecksumYieldsTheInnerFrame) {
  OuterFrame f;
  f->no_udp_checksum();
  ASSERT_EQ(decap(f.bytes()).kind, DecapResult::Kind::decapped);
  EXPECT_EQ(from_mbuf(m_), inner_frame());
  EXPECT_EQ(rte_pktmbuf_pkt_len(m_), inner_frame().size());
}

TEST_F(VxlanDecapTest, GoodFrameWithCorrectChecksumYieldsTheInnerFrame) {
  const auto frame = OuterFrame().bytes();
  ASSERT_NE(frame[40] | frame[41], 0);  // the builder filled the UDP checksum
  ASSERT_EQ(decap(frame).kind, DecapResult::Kind::decapped);
  EXPECT_EQ(from_mbuf(m_), inner_frame());
}

TEST_F(VxlanDecapTest, OuterIpOptionsAreStripped) {
  OuterFrame f;
  f->ip_options({0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00});  // NOPs and end of list
  const auto frame = f.bytes();
  ASSERT_EQ(frame[14], 0x47);
  ASSERT_EQ(decap(frame).kind, DecapResult::Kind::decapped);
  EXPECT_EQ(from_mbuf(m_), inner_frame());
}

TEST_F(VxlanDecapTest, EthernetPaddingAfterTheOuterPacketIsTrimmed) {
  const auto frame = concat(OuterFrame().bytes(), {0, 0, 0, 0, 0, 0});
  ASSERT_EQ(decap(frame).kind, DecapResult::Kind::decapped);
  EXPECT_EQ(from_mbuf(m_), inner_frame());
  EXPECT_EQ(rte_pktmbuf_pkt_len(m_), inner_frame().size());
}

TEST_F(VxlanDecapTest, MultiSegmentFrameIsVerifiedAndDecapped) {
  const auto frame =
      concat(OuterFrame(concat(vxlan_header(kVni), inner_frame(999))).bytes(), {0, 0, 0, 0});
  m_ = keep(to_segments(frame, {101, 500, 490}));  // odd split: checksum across bytes
  ASSERT_EQ(vxlan_decap(m_, params_).kind, DecapResult::Kind::decapped);
  EXPECT_EQ(linearize(m_), inner_frame(999));
  EXPECT_EQ(rte_pktmbuf_pkt_len(m_), inner_frame(999).size());
  EXPECT_EQ(m_->nb_segs, 3);  // the padding sat in a segment of its own, now freed
}

TEST_F(VxlanDecapTest, OtherTrafficIsNotVxlan) {
  expect_not_vxlan(PacketBuilder()
                       .eth(kLocalMac, kNextHopMac)
                       .ipv4(kLocalIp, kRemoteIp, IPPROTO_TCP)
                       .tcp(40000, kVxlanPort)
                       .bytes());
  expect_not_vxlan(PacketBuilder()
                       .eth(kLocalMac, kNextHopMac)
                       .ipv4(kLocalIp, kRemoteIp, IPPROTO_UDP)
                       .udp(kSourcePort, 53)
                       .bytes());
  expect_not_vxlan(PacketBuilder()
                       .eth(kLocalMac, "ff:ff:ff:ff:ff:ff", 0x0806)
                       .arp(1, kLocalMac, kLocalIp, "00:00:00:00:00:00", kRemoteIp)
                       .bytes());
  // A non-first fragment has no UDP header to tell.
  OuterFrame later_fragment;
  later_fragment->fragment_offset(100);
  expect_not_vxlan(later_fragment.bytes());
}

TEST_F(VxlanDecapTest, WrongVniIsRejected) {
  expect_rejected(OuterFrame(concat(vxlan_header(kVni + 1), inner_frame())).bytes(),
                  DropReason::vxlan_bad_vni);
}

TEST_F(VxlanDecapTest, ReservedBitsAreRejected) {
  for (size_t byte : {1, 2, 3, 7}) {
    auto header = vxlan_header(kVni);
    header[byte] = 0x01;
    expect_rejected(OuterFrame(concat(header, inner_frame())).bytes(), DropReason::vxlan_bad_flags);
  }
}

TEST_F(VxlanDecapTest, FlagsOtherThanExactlyIAreRejected) {
  for (uint8_t flags : {0x00, 0x0c, 0x88, 0x09}) {
    auto header = vxlan_header(kVni);
    header[0] = flags;
    expect_rejected(OuterFrame(concat(header, inner_frame())).bytes(), DropReason::vxlan_bad_flags);
  }
}

TEST_F(VxlanDecapTest, VxlanForAnotherNodeIsRejected) {
  params_.node_ip = be_ip("192.168.1.99");
  expect_rejected(OuterFrame().bytes(), DropReason::vxlan_not_our_ip);
}

TEST_F(VxlanDecapTest, TruncatedVxlanOrInnerHeaderIsRejected) {
  expect_rejected(OuterFrame({0x08, 0, 0, 0}).bytes(), DropReason::vxlan_truncated);
  // VXLAN header whole, inner Ethernet header cut at 13 bytes.
  const auto inner = inner_frame();
  expect_rejected(
      OuterFrame(concat(vxlan_header(kVni), {inner.begin(), inner.begin() + 13})).bytes(),
      DropReason::vxlan_truncated);
}

TEST_F(VxlanDecapTest, UdpLengthDisagreeingWithIpLengthIsRejected) {
  OuterFrame f;
  f->no_udp_checksum();
  for (int delta : {-1, 1}) {
    auto frame = f.bytes();
    const uint16_t udp_len = static_cast<uint16_t>(((frame[38] << 8) | frame[39]) + delta);
    frame[38] = static_cast<uint8_t>(udp_len >> 8);
    frame[39] = static_cast<uint8_t>(udp_len);
    expect_rejected(frame, DropReason::vxlan_bad_udp_length);
  }
}

TEST_F(VxlanDecapTest, FirstFragmentIsRejected) {
  OuterFrame f;
  f->more_fragments();
  expect_rejected(f.bytes(), DropReason::vxlan_fragment);
}

TEST_F(VxlanDecapTest, WrongNonZeroChecksumIsRejected) {
  auto frame = OuterFrame().bytes();
  frame.back() ^= 0x01;  // payload no longer matches the checksum
  expect_rejected(frame, DropReason::vxlan_bad_checksum);
  auto bad_sum = OuterFrame().bytes();
  bad_sum[41] ^= 0x80;
  expect_rejected(bad_sum, DropReason::vxlan_bad_checksum);
}

TEST_F(VxlanDecapTest, OuterIpv4LengthBeyondTheFrameIsRejected) {
  auto frame = OuterFrame().bytes();
  frame[17] += 1;  // total length one byte more than received
  expect_rejected(frame, DropReason::ipv4_bad_total_length);
}

TEST_F(VxlanDecapTest, EncapThenDecapGivesBackTheOriginal) {
  VxlanParams params;
  params.vni = kVni;
  const VxlanOuterTemplate outer = make_vxlan_outer(params, ether(kLocalMac), ether(kNextHopMac),
                                                    be_ip(kLocalIp), be_ip(kRemoteIp));
  for (bool checksum : {false, true}) {
    for (size_t payload : {0, 1, 100, 1401}) {
      const auto inner = inner_frame(payload);
      rte_mbuf* m = keep(to_mbuf(test_pool(), inner));
      ASSERT_TRUE(vxlan_encap(m, outer, 0x1234 + payload, checksum));
      ASSERT_EQ(vxlan_decap(m, params_).kind, DecapResult::Kind::decapped);
      EXPECT_EQ(from_mbuf(m), inner) << "payload " << payload << " checksum " << checksum;
    }
  }
}

}  // namespace
}  // namespace podvs::test
