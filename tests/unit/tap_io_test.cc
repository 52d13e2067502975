// podvs's tap against the real kernel: the test process moves into a network namespace of its
// own (gone when it exits, whatever happens), opens a tap there and plays the remote TCP peer of a
// socket of the kernel's, byte by byte. The kernel's SYN-ACK arrives with a partial checksum, its
// data as a TCP super-frame podvs segments correctly, and a super-frame podvs writes reaches the
// socket whole with no checksum error counted.
#include "ports/tap_io.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "offload/checksum_completion.h"
#include "offload/tcp_segmentation.h"
#include "offload/virtio_net_hdr.h"
#include "ports/tap_device.h"
#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs {
namespace {

using test::PacketBuilder;

constexpr const char* kTap = "ptap0";
constexpr const char* kKernelMac = "02:00:00:00:00:01";
constexpr const char* kPeerMac = "02:00:00:00:00:02";
constexpr const char* kKernelIp = "10.99.0.1";
constexpr const char* kPeerIp = "10.99.0.2";
constexpr uint16_t kServerPort = 5201;
constexpr uint32_t kPeerIsn = 1000;

void run(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// The kernel's count of TCP segments that arrived with a bad checksum (nstat's TcpInCsumErrors).
uint64_t tcp_in_csum_errors() {
  std::ifstream snmp("/proc/net/snmp");
  std::string header, values;
  while (std::getline(snmp, header) && std::getline(snmp, values)) {
    if (header.rfind("Tcp:", 0) != 0) continue;
    std::istringstream names(header), nums(values);
    std::string name, num;
    while (names >> name && nums >> num)
      if (name == "InCsumErrors") return std::stoull(num);
  }
  return UINT64_MAX;
}

uint16_t u16(const std::vector<uint8_t>& f, size_t at) { return (f[at] << 8) | f[at + 1]; }
uint32_t u32(const std::vector<uint8_t>& f, size_t at) {
  return (uint32_t{u16(f, at)} << 16) | u16(f, at + 2);
}

// A TCP/IPv4 frame's checksums verify (IPv4 header and TCP, pseudo-header included).
bool checksums_ok(const std::vector<uint8_t>& f) {
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f.data() + 14);
  const size_t l4_len = f.size() - 34;
  uint32_t sum = rte_ipv4_phdr_cksum(ip, 0);
  sum += rte_raw_cksum(f.data() + 34, l4_len);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  // Over a correct checksum the one's complement sum is all ones (the IPv4 header's the same).
  return rte_ipv4_cksum(ip) == 0 && sum == 0xffff;
}

class TapIoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A namespace of this process's own: the tap, its address and the socket vanish with it.
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1\n";
  }

  void SetUp() override {
    tap_ = std::make_unique<TapDevice>(kTap, 1);
    run(std::string("ip link set ") + kTap + " address " + kKernelMac + " up");
    run(std::string("ip addr add ") + kKernelIp + "/24 dev " + kTap);
    run(std::string("ip neigh replace ") + kPeerIp + " lladdr " + kPeerMac + " dev " + kTap);
    large_ = create_tap_large_pool("tap_test_large", 64, SOCKET_ID_ANY);
    ASSERT_NE(large_, nullptr);
    rxq_.fd = tap_->fds()[0];
    rxq_.pool = test::test_pool();
    rxq_.large_pool = large_;
  }
  void TearDown() override {
    if (listener_ >= 0) close(listener_);
    if (conn_ >= 0) close(conn_);
    tap_queue_release(rxq_);
    tap_.reset();
    rte_mempool_free(large_);
  }

  // The next TCP frame the kernel sends on the tap to this test's peer port (ARP, and what the
  // namespace's sockets of earlier tests still send, skipped), or nullptr.
  rte_mbuf* next_tcp_frame() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      rte_mbuf* pkts[kTapBurst];
      RxRejects rejects;
      const uint16_t n = tap_rx_burst(rxq_, pkts, kTapBurst, rejects);
      EXPECT_EQ(rejects.count, 0) << "the kernel's header was refused";
      for (uint16_t i = 0; i < rejects.count; ++i) rte_pktmbuf_free(rejects.pkts[i]);
      rte_mbuf* found = nullptr;
      for (uint16_t i = 0; i < n; ++i) {
        const auto f = test::chain_bytes(pkts[i]);
        if (found == nullptr && f.size() > 54 && u16(f, 12) == 0x0800 && f[23] == IPPROTO_TCP &&
            u16(f, 36) == peer_port_)
          found = pkts[i];
        else
          rte_pktmbuf_free(pkts[i]);
      }
      if (found != nullptr) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return nullptr;
  }

  // A frame from the peer, written through tap_tx_burst.
  void write_frame(rte_mbuf* m) { ASSERT_EQ(tap_tx_burst(tap_->fds()[0], &m, 1), 1); }

  PacketBuilder from_peer(uint32_t seq, uint32_t ack, uint8_t flags) {
    PacketBuilder b;
    b.eth(kPeerMac, kKernelMac)
        .ipv4(kPeerIp, kKernelIp, IPPROTO_TCP)
        .dont_fragment()
        .tcp(peer_port_, kServerPort, 0)
        .tcp_seq(seq)
        .tcp_ack(ack)
        .tcp_flags(flags);
    return b;
  }

  // Listens, sends the SYN, takes the SYN-ACK (returned, checksum completed), ACKs it and
  // accepts: the kernel's first sequence number.
  uint32_t connect_peer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(kServerPort);
    inet_pton(AF_INET, kKernelIp, &addr.sin_addr);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listener_, 1), 0);
    write_frame(test::to_mbuf(test::test_pool(), from_peer(kPeerIsn, 0, test::kTcpSyn).bytes()));
    rte_mbuf* syn_ack = next_tcp_frame();
    EXPECT_NE(syn_ack, nullptr) << "no SYN-ACK";
    if (syn_ack == nullptr) return 0;
    // The kernel leaves the checksum to podvs (TUN_F_CSUM): a partial TCP checksum.
    EXPECT_EQ(syn_ack->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
    complete_l4_checksum(syn_ack);
    const auto f = test::chain_bytes(syn_ack);
    rte_pktmbuf_free(syn_ack);
    EXPECT_TRUE(checksums_ok(f));
    EXPECT_EQ(f[47], test::kTcpSyn | test::kTcpAck);
    const uint32_t isn = u32(f, 38);
    write_frame(
        test::to_mbuf(test::test_pool(), from_peer(kPeerIsn + 1, isn + 1, test::kTcpAck).bytes()));
    conn_ = accept(listener_, nullptr, nullptr);
    EXPECT_GE(conn_, 0);
    return isn;
  }

  std::unique_ptr<TapDevice> tap_;
  rte_mempool* large_ = nullptr;
  TapRxQueue rxq_;
  int listener_ = -1, conn_ = -1;
  // Each test its own peer port: its connection is new to the namespace's kernel.
  inline static uint16_t next_peer_port_ = 40000;
  const uint16_t peer_port_ = next_peer_port_++;
};

TEST_F(TapIoTest, KernelSendsSuperFramesThatSegmentIntoValidSegments) {
  const uint32_t isn = connect_peer();
  ASSERT_GE(conn_, 0);
  std::vector<uint8_t> data(20000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31);
  ASSERT_EQ(send(conn_, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));

  rte_mbuf* super = next_tcp_frame();
  ASSERT_NE(super, nullptr);
  // No MSS option in our SYN: the kernel uses 536, and sends its initial window as one frame.
  ASSERT_NE(super->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u) << "pkt_len " << super->pkt_len;
  EXPECT_EQ(super->tso_segsz, 536);
  EXPECT_GT(super->pkt_len, 2048u) << "should span the standard and the large buffer";
  EXPECT_EQ(super->nb_segs, 2);

  rte_mbuf* segs[kMaxGsoSegments];
  const uint16_t n = segment_tcp4(super, test::test_pool(), segs, kMaxGsoSegments);
  ASSERT_GT(n, 1);
  uint32_t seq = isn + 1;
  size_t at = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const auto f = test::chain_bytes(segs[i]);
    rte_pktmbuf_free(segs[i]);
    EXPECT_TRUE(checksums_ok(f)) << "segment " << i;
    EXPECT_EQ(u32(f, 38), seq) << "segment " << i;
    const size_t len = f.size() - 54;
    EXPECT_LE(len, 536u);
    EXPECT_TRUE(std::equal(f.begin() + 54, f.end(), data.begin() + at)) << "segment " << i;
    seq += len;
    at += len;
  }
}

TEST_F(TapIoTest, SuperFrameWrittenToTheTapArrivesWhole) {
  const uint64_t errors_before = tcp_in_csum_errors();
  const uint32_t isn = connect_peer();
  ASSERT_GE(conn_, 0);
  std::vector<uint8_t> data(6000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 5);
  // 6000 bytes as one frame with a partial checksum, for the kernel to take as 5 segments of 1448.
  auto frame =
      from_peer(kPeerIsn + 1, isn + 1, test::kTcpAck | test::kTcpPsh).tcp_payload(data).bytes();
  const uint16_t pseudo =
      rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(frame.data() + 14), 0);
  std::memcpy(frame.data() + 50, &pseudo, sizeof(pseudo));
  rte_mbuf* m = test::to_chain(test::test_pool(), frame, 2048);
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
  m->l2_len = 14;
  m->l3_len = 20;
  m->l4_len = 20;
  m->tso_segsz = 1448;
  write_frame(m);

  std::vector<uint8_t> got(data.size());
  size_t have = 0;
  timeval tv{3, 0};
  setsockopt(conn_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  while (have < got.size()) {
    const ssize_t r = recv(conn_, got.data() + have, got.size() - have, 0);
    if (r <= 0) break;
    have += static_cast<size_t>(r);
  }
  EXPECT_EQ(have, data.size());
  EXPECT_EQ(got, data);
  EXPECT_EQ(tcp_in_csum_errors(), errors_before);
}

TEST_F(TapIoTest, EmptyTapReadsNothingAndKeepsItsBuffers) {
  rte_mbuf* pkts[kTapBurst];
  RxRejects rejects;
  const unsigned in_use = rte_mempool_in_use_count(test::test_pool());
  EXPECT_EQ(tap_rx_burst(rxq_, pkts, kTapBurst, rejects), 0);
  EXPECT_EQ(rejects.count, 0);
  // One standard and one large buffer wait for the next read; nothing else is held.
  EXPECT_LE(rte_mempool_in_use_count(test::test_pool()), in_use + 1);
  EXPECT_LE(rte_mempool_in_use_count(large_), 1u);
}

}  // namespace
}  // namespace podvs
