// TCP connections in the connection table: the flags of each packet move the state, and the
// state decides how long an idle connection is kept. The TSC runs at 1 kHz here.
#include <gtest/gtest.h>
#include <rte_tcp.h>

#include <utility>
#include <vector>

#include "tests/unit/conn_fixture.h"
#include "vswitch/nat/conntrack.h"

namespace podvs::test {
namespace {

constexpr uint64_t kHz = 1000;
constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG;
constexpr uint8_t kSynAck = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kAck = RTE_TCP_ACK_FLAG;
constexpr uint8_t kFin = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG;
constexpr uint8_t kRst = RTE_TCP_RST_FLAG;
constexpr ConnDir kOrig = ConnDir::original;
constexpr ConnDir kReply = ConnDir::reply;

using Packets = std::vector<std::pair<ConnDir, uint8_t>>;

const Packets kHandshake = {{kOrig, kSyn}, {kReply, kSynAck}, {kOrig, kAck}};

class ConnTrackTcp : public ::testing::Test {
 protected:
  void SetUp() override {
    entry_ = ct_.create(flow_, reversed(flow_), NatSpec{}, 0);
    ASSERT_NE(entry_, nullptr);
  }
  // Feeds the packets at time `now` and returns the state after each.
  std::vector<TcpState> feed(const Packets& packets, uint64_t now = 0) {
    std::vector<TcpState> states;
    for (const auto& [dir, flags] : packets) {
      ct_.update(entry_, dir, flags, now);
      states.push_back(entry_->tcp_state());
    }
    return states;
  }

  const ConnTuple flow_ = tuple(IPPROTO_TCP, kPodIp, 40000, kDnsIp, 443);
  ConnTrack ct_{8, kHz};
  ConnEntry* entry_ = nullptr;
};

TEST_F(ConnTrackTcp, HandshakeThenOriginatorClosesFirst) {
  EXPECT_EQ(entry_->tcp_state(), TcpState::none);
  EXPECT_EQ(feed(kHandshake),
            (std::vector{TcpState::syn_sent, TcpState::syn_recv, TcpState::established}));
  EXPECT_EQ(feed({{kOrig, kAck},
                  {kReply, kAck},
                  {kOrig, kFin},
                  {kReply, kAck},
                  {kReply, kAck},
                  {kReply, kFin},
                  {kOrig, kAck}}),
            (std::vector{TcpState::established, TcpState::established, TcpState::fin_wait,
                         TcpState::fin_wait, TcpState::fin_wait, TcpState::time_wait,
                         TcpState::time_wait}));
}

TEST_F(ConnTrackTcp, ResponderClosesFirst) {
  feed(kHandshake);
  EXPECT_EQ(feed({{kReply, kFin}, {kOrig, kAck}, {kOrig, kFin}}),
            (std::vector{TcpState::fin_wait, TcpState::fin_wait, TcpState::time_wait}));
}

TEST_F(ConnTrackTcp, RepeatedFinFromOneSideIsNotBothSides) {
  feed(kHandshake);
  EXPECT_EQ(feed({{kOrig, kFin}, {kOrig, kFin}}),
            (std::vector{TcpState::fin_wait, TcpState::fin_wait}));
}

TEST_F(ConnTrackTcp, RstFromEitherSideClosesFromEveryState) {
  const std::vector<Packets> to_state = {{},
                                         {{kOrig, kSyn}},
                                         {{kOrig, kSyn}, {kReply, kSynAck}},
                                         kHandshake,
                                         {{kOrig, kAck}, {kOrig, kFin}},
                                         {{kOrig, kAck}, {kOrig, kFin}, {kReply, kFin}}};
  for (ConnDir dir : {kOrig, kReply}) {
    for (const Packets& packets : to_state) {
      ConnTrack ct(1, kHz);
      ConnEntry* e = ct.create(flow_, reversed(flow_), NatSpec{}, 0);
      for (const auto& [d, flags] : packets) ct.update(e, d, flags, 0);
      ct.update(e, dir, kRst | kAck, 0);
      EXPECT_EQ(e->tcp_state(), TcpState::closed) << packets.size();
    }
  }
}

TEST_F(ConnTrackTcp, HandshakeOutOfOrderDoesNotAdvance) {
  EXPECT_EQ(feed({{kOrig, kSyn}, {kOrig, kSyn}, {kReply, kAck}, {kOrig, kAck}}),
            (std::vector{TcpState::syn_sent, TcpState::syn_sent, TcpState::syn_sent,
                         TcpState::syn_sent}));
  EXPECT_EQ(feed({{kReply, kSynAck}, {kReply, kAck}, {kOrig, kSynAck}, {kOrig, kAck}}),
            (std::vector{TcpState::syn_recv, TcpState::syn_recv, TcpState::syn_recv,
                         TcpState::established}));
}

TEST_F(ConnTrackTcp, SimultaneousOpenGoesThroughSynRecv) {
  EXPECT_EQ(feed({{kOrig, kSyn}, {kReply, kSyn}, {kOrig, kAck}}),
            (std::vector{TcpState::syn_sent, TcpState::syn_recv, TcpState::established}));
}

TEST_F(ConnTrackTcp, MidStreamPacketIsPickedUpAsEstablished) {
  EXPECT_EQ(feed({{kOrig, kAck}}), (std::vector{TcpState::established}));
}

TEST_F(ConnTrackTcp, MidStreamFinIsPickedUpClosing) {
  EXPECT_EQ(feed({{kOrig, kFin}}), (std::vector{TcpState::fin_wait}));
}

TEST_F(ConnTrackTcp, NewSynReopensAClosedConnection) {
  feed(kHandshake);
  EXPECT_EQ(feed({{kOrig, kFin},
                  {kReply, kFin},
                  {kOrig, kSyn},
                  {kReply, kSynAck},
                  {kOrig, kAck},
                  {kOrig, kFin}}),
            (std::vector{TcpState::fin_wait, TcpState::time_wait, TcpState::syn_sent,
                         TcpState::syn_recv, TcpState::established, TcpState::fin_wait}));
  EXPECT_EQ(
      feed({{kReply, kRst}, {kReply, kSyn}, {kOrig, kAck}, {kOrig, kSyn}}),
      (std::vector{TcpState::closed, TcpState::closed, TcpState::closed, TcpState::syn_sent}));
}

TEST_F(ConnTrackTcp, UdpIgnoresTcpFlags) {
  ConnTrack ct(1, kHz);
  const ConnTuple udp = tuple(IPPROTO_UDP, kPodIp, 40000, kDnsIp, 53);
  ConnEntry* e = ct.create(udp, reversed(udp), NatSpec{}, 0);
  ct.update(e, kOrig, kSyn, 0);
  EXPECT_EQ(e->tcp_state(), TcpState::none);
}

struct StateTimeout {
  Packets packets;  // from a new entry to the state
  TcpState state;
  uint64_t seconds;  // the default timeout of that state
};

TEST(ConnTrackTcpTimeout, EachStateKeepsAnIdleConnectionForItsTimeout) {
  const std::vector<StateTimeout> cases = {
      {{}, TcpState::none, 120},
      {{{kOrig, kSyn}}, TcpState::syn_sent, 120},
      {{{kOrig, kSyn}, {kReply, kSynAck}}, TcpState::syn_recv, 60},
      {kHandshake, TcpState::established, 7440},
      {{{kOrig, kAck}, {kReply, kFin}}, TcpState::fin_wait, 120},
      {{{kOrig, kAck}, {kReply, kFin}, {kOrig, kFin}}, TcpState::time_wait, 120},
      {{{kOrig, kSyn}, {kReply, kRst}}, TcpState::closed, 10},
  };
  const ConnTuple flow = tuple(IPPROTO_TCP, kPodIp, 40000, kDnsIp, 443);
  constexpr uint64_t kStart = 5 * kHz;  // the last packet's time
  for (const StateTimeout& c : cases) {
    ConnTrack ct(1, kHz);
    ConnEntry* e = ct.create(flow, reversed(flow), NatSpec{}, kStart);
    for (const auto& [dir, flags] : c.packets) ct.update(e, dir, flags, kStart);
    ASSERT_EQ(e->tcp_state(), c.state);
    const uint64_t last_alive = kStart + c.seconds * kHz;
    EXPECT_NE(ct.lookup(flow, last_alive).entry, nullptr) << c.seconds;
    EXPECT_EQ(ct.lookup(flow, last_alive + 1).entry, nullptr) << c.seconds;
  }
}

}  // namespace
}  // namespace podvs::test
