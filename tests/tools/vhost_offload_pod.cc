// vhost_offload_pod: a DPDK pod for the offload tests (tests/integration/vhost_offloads.sh). It
// attaches to podvsd's vhost-user socket with DPDK's virtio_user PMD, so a real virtio driver
// negotiates the features and writes and reads the virtio-net headers, and either checks what
// arrives or sends frames that carry offload work.
//
// usage: vhost_offload_pod <EAL args with one net_virtio_user vdev> -- --mac MAC --ip A.B.C.D
//          [--offloads] MODE [--peer A.B.C.D] [--count N] [--payload N] [--mss N] [--timeout S]
//   --offloads  ask for rx TCP LRO + checksum and tx TSO + checksum (else none: the pod then
//               negotiates no CSUM, GUEST_CSUM, HOST_TSO or GUEST_TSO)
// MODE:
//   recv-whole     expect one TCP super-frame of --payload bytes: RX_LRO, tso_segsz == --mss, a
//                  partial checksum holding the pseudo-header sum (DPDK's TSO convention: without
//                  the length), the payload pattern intact
//   recv-segments  expect that payload cut into --mss segments, each with correct IPv4 and TCP
//                  checksums, no offload marks
//   recv-udp       expect --count UDP datagrams of --payload bytes; with --offloads each arrives
//                  partial (pseudo-header sum), without each with a correct checksum
//   send-udp-partial  send --count UDP datagrams to --peer with a partial checksum
//                  (RTE_MBUF_F_TX_UDP_CKSUM): the driver writes NEEDS_CSUM in the header
//   send-bad-tso   send --count TCP frames of --payload bytes asking for TSO with tso_segsz 0
//                  (a header with a GSO type and gso_size 0), then --count good UDP datagrams
// Payload byte i of a stream is (i & 0xff) from its first byte (a TCP stream's first sequence
// number is 1000, as tests/integration/send_gso.py sends it). Exits 0 when what was expected
// arrived; otherwise prints what did not and exits 1.
#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr uint16_t kPort = 0;
constexpr uint32_t kFirstSeq = 1000;
constexpr uint16_t kUdpPort = 7777;
const rte_ether_addr kGatewayMac = {{0x0a, 0x58, 0xa9, 0xfe, 0x01, 0x01}};

struct Options {
  rte_ether_addr mac{};
  uint32_t ip = 0;    // network order
  uint32_t peer = 0;  // network order
  bool offloads = false;
  std::string mode;
  uint32_t count = 5;
  uint32_t payload = 20000;
  uint16_t mss = 1400;
  double timeout = 10;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "vhost_offload_pod: %s\n", what);
  std::exit(1);
}

uint32_t parse_ip(const char* s) {
  in_addr a{};
  if (inet_pton(AF_INET, s, &a) != 1) fail("bad IPv4 address");
  return a.s_addr;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) fail(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--mac") {
      if (rte_ether_unformat_addr(next(), &o.mac) != 0) fail("bad --mac");
    } else if (a == "--ip") {
      o.ip = parse_ip(next());
    } else if (a == "--peer") {
      o.peer = parse_ip(next());
    } else if (a == "--offloads") {
      o.offloads = true;
    } else if (a == "--count") {
      o.count = static_cast<uint32_t>(std::atoi(next()));
    } else if (a == "--payload") {
      o.payload = static_cast<uint32_t>(std::atoi(next()));
    } else if (a == "--mss") {
      o.mss = static_cast<uint16_t>(std::atoi(next()));
    } else if (a == "--timeout") {
      o.timeout = std::atof(next());
    } else if (a.rfind("--", 0) != 0 && o.mode.empty()) {
      o.mode = a;
    } else {
      fail(("unknown argument " + a).c_str());
    }
  }
  if (o.mode.empty() || o.ip == 0) fail("need --mac, --ip and a mode");
  return o;
}

rte_mempool* start_port(const Options& o) {
  rte_mempool* pool =
      rte_pktmbuf_pool_create("pod_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool == nullptr) fail("cannot create the mbuf pool");
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(kPort, &info) != 0) fail("no virtio_user port");
  rte_eth_conf conf{};
  if (o.offloads) {
    const uint64_t rx =
        RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    const uint64_t tx = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
                        RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if ((info.rx_offload_capa & rx) != rx || (info.tx_offload_capa & tx) != tx)
      fail("the virtio_user port does not offer TSO/LRO and checksum offloads");
    conf.rxmode.offloads = rx;
    conf.txmode.offloads = tx;
    conf.rxmode.max_lro_pkt_size = info.max_lro_pkt_size;
  }
  if (rte_eth_dev_configure(kPort, 1, 1, &conf) != 0) fail("rte_eth_dev_configure failed");
  if (rte_eth_rx_queue_setup(kPort, 0, 256, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(kPort, 0, 256, rte_socket_id(), nullptr) != 0)
    fail("queue setup failed");
  if (rte_eth_dev_start(kPort) != 0) fail("rte_eth_dev_start failed");
  for (int i = 0; i < 200; ++i) {
    rte_eth_link link{};
    rte_eth_link_get_nowait(kPort, &link);
    if (link.link_status == RTE_ETH_LINK_UP) return pool;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fail("link did not come up (is podvsd connected?)");
}

// The frame's bytes, whichever mbufs hold them.
std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> out(rte_pktmbuf_pkt_len(m));
  // rte_pktmbuf_read copies only when the bytes span segments; otherwise it points at them.
  const void* p = rte_pktmbuf_read(m, 0, out.size(), out.data());
  if (p != out.data()) std::memcpy(out.data(), p, out.size());
  return out;
}

bool pattern_ok(const uint8_t* p, uint32_t len, uint32_t stream_offset) {
  for (uint32_t i = 0; i < len; ++i)
    if (p[i] != static_cast<uint8_t>(stream_offset + i)) return false;
  return true;
}

// The folded, not inverted, pseudo-header sum a partial checksum field holds (virtio's meaning).
// In a super-frame, rte_vhost's enqueue (rte_net_intel_cksum_prepare) leaves it as DPDK's TSO
// convention has it: without the L4 length, which each segment's own length replaces.
uint16_t pseudo_header_sum(const rte_ipv4_hdr* ip, bool super_frame = false) {
  return rte_ipv4_phdr_cksum(ip, super_frame ? RTE_MBUF_F_TX_TCP_SEG : 0);
}

// A complete TCP or UDP checksum: the pseudo-header and the whole L4 segment, checksum field
// included, sum to 0xffff.
bool l4_checksum_ok(const rte_ipv4_hdr* ip, const uint8_t* l4) {
  const uint32_t len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
  uint32_t sum = static_cast<uint32_t>(pseudo_header_sum(ip)) + rte_raw_cksum(l4, len);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

int receive(const Options& o) {
  const bool tcp = o.mode != "recv-udp";
  const uint32_t expected_frames = o.mode == "recv-whole"      ? 1
                                   : o.mode == "recv-segments" ? (o.payload + o.mss - 1) / o.mss
                                                               : o.count;
  std::vector<bool> seen(o.payload, false);
  uint32_t frames = 0, bytes = 0, problems = 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
  auto problem = [&](uint32_t frame, const char* what) {
    ++problems;
    std::printf("frame %u: %s\n", frame, what);
  };
  while (std::chrono::steady_clock::now() < deadline &&
         (frames < expected_frames || (tcp && bytes < o.payload))) {
    rte_mbuf* pkts[32];
    const uint16_t n = rte_eth_rx_burst(kPort, 0, pkts, 32);
    if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const std::vector<uint8_t> f = bytes_of(m);
      const auto* eth = reinterpret_cast<const rte_ether_hdr*>(f.data());
      const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
      const bool ours = f.size() >= sizeof(*eth) + sizeof(*ip) &&
                        eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) && ip->dst_addr == o.ip &&
                        ip->next_proto_id == (tcp ? IPPROTO_TCP : IPPROTO_UDP);
      if (!ours) {
        rte_pktmbuf_free(m);
        continue;
      }
      const uint32_t id = frames++;
      const uint32_t ihl = rte_ipv4_hdr_len(ip);
      const uint8_t* l4 = f.data() + sizeof(*eth) + ihl;
      const uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
      const bool lro = (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0;
      // Summed with its checksum field, a correct header folds to 0xffff.
      if (rte_raw_cksum(ip, ihl) != 0xffff) problem(id, "IPv4 header checksum is wrong");
      uint32_t l4_hdr = 0, stream_offset = 0;
      uint16_t field = 0;
      if (tcp) {
        const auto* th = reinterpret_cast<const rte_tcp_hdr*>(l4);
        l4_hdr = (th->data_off >> 4) * 4u;
        stream_offset = rte_be_to_cpu_32(th->sent_seq) - kFirstSeq;
        field = th->cksum;
      } else {
        l4_hdr = sizeof(rte_udp_hdr);
        field = reinterpret_cast<const rte_udp_hdr*>(l4)->dgram_cksum;
      }
      const uint32_t data_len = rte_be_to_cpu_16(ip->total_length) - ihl - l4_hdr;
      const uint8_t* data = l4 + l4_hdr;
      bool partial_expected = false;
      if (o.mode == "recv-whole") {
        partial_expected = true;
        if (!lro) problem(id, "no RTE_MBUF_F_RX_LRO: not delivered as a super-frame");
        if (m->tso_segsz != o.mss) problem(id, "tso_segsz is not the sender's MSS");
        if (data_len != o.payload) problem(id, "super-frame does not hold the whole payload");
      } else if (o.mode == "recv-segments") {
        if (lro) problem(id, "RTE_MBUF_F_RX_LRO on a pod that took no TSO");
        if (data_len > o.mss) problem(id, "segment longer than the MSS");
      } else {
        partial_expected = o.offloads;
        if (data_len != o.payload) problem(id, "datagram of the wrong length");
      }
      if (partial_expected) {
        if (l4_flags != RTE_MBUF_F_RX_L4_CKSUM_NONE)
          problem(id, "no partial checksum (RX_L4_CKSUM_NONE) in the virtio-net header");
        if (field != pseudo_header_sum(ip, lro)) {
          std::printf("frame %u: checksum field %#x, expected %#x\n", id, field,
                      pseudo_header_sum(ip, lro));
          problem(id, "partial checksum field does not hold the pseudo-header sum");
        }
      } else {
        if (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_NONE)
          problem(id, "partial checksum sent to a pod that took no checksum offload");
        if (!l4_checksum_ok(ip, l4)) problem(id, "L4 checksum is wrong");
      }
      if (tcp) {
        if (stream_offset + data_len > o.payload || !pattern_ok(data, data_len, stream_offset))
          problem(id, "payload bytes differ from what was sent");
        else
          for (uint32_t b = 0; b < data_len; ++b) seen[stream_offset + b] = true;
        bytes += data_len;
      } else if (!pattern_ok(data, data_len, 0)) {
        problem(id, "payload bytes differ from what was sent");
      }
      rte_pktmbuf_free(m);
    }
  }
  uint32_t covered = 0;
  for (bool b : seen) covered += b ? 1 : 0;
  std::printf("%s: %u frame(s), %u payload bytes%s, %u problem(s)\n", o.mode.c_str(), frames, bytes,
              tcp ? (", " + std::to_string(covered) + " distinct").c_str() : "", problems);
  const bool complete = frames == expected_frames && (!tcp || covered == o.payload);
  if (!complete)
    std::printf("expected %u frame(s)%s\n", expected_frames, tcp ? " covering the payload" : "");
  return complete && problems == 0 ? 0 : 1;
}

// An Ethernet + IPv4 frame to the gateway, from this pod to `dst`, with `l4_len` bytes after the
// IPv4 header (the caller fills them); the mbuf's l2/l3 lengths are set.
rte_mbuf* make_frame(rte_mempool* pool, const Options& o, uint8_t proto, uint32_t l4_len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) fail("out of mbufs");
  const uint32_t len = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + l4_len;
  if (len > rte_pktmbuf_tailroom(m)) fail("frame larger than one mbuf");
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  std::memset(eth, 0, len);
  eth->dst_addr = kGatewayMac;
  eth->src_addr = o.mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(*ip) + l4_len));
  ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = proto;
  ip->src_addr = o.ip;
  ip->dst_addr = o.peer;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  m->l2_len = sizeof(rte_ether_hdr);
  m->l3_len = sizeof(rte_ipv4_hdr);
  return m;
}

// A UDP datagram with the payload pattern; its checksum partial (the pseudo-header sum, for the
// driver's header) or complete.
rte_mbuf* make_udp(rte_mempool* pool, const Options& o, bool partial) {
  rte_mbuf* m = make_frame(pool, o, IPPROTO_UDP, sizeof(rte_udp_hdr) + o.payload);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  udp->src_port = RTE_BE16(kUdpPort);
  udp->dst_port = RTE_BE16(kUdpPort);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(*udp) + o.payload));
  auto* data = reinterpret_cast<uint8_t*>(udp + 1);
  for (uint32_t i = 0; i < o.payload; ++i) data[i] = static_cast<uint8_t>(i);
  if (partial) {
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
    udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
  } else {
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  }
  return m;
}

// A TCP frame of --payload bytes that asks the driver for TSO with segments of 0 bytes.
rte_mbuf* make_bad_tso(rte_mempool* pool, const Options& o) {
  rte_mbuf* m = make_frame(pool, o, IPPROTO_TCP, sizeof(rte_tcp_hdr) + o.payload);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  tcp->src_port = RTE_BE16(kUdpPort);
  tcp->dst_port = RTE_BE16(kUdpPort);
  tcp->sent_seq = rte_cpu_to_be_32(kFirstSeq);
  tcp->data_off = (sizeof(*tcp) / 4) << 4;
  tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
  tcp->rx_win = RTE_BE16(65535);
  m->l4_len = sizeof(*tcp);
  m->tso_segsz = 0;
  m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
  tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
  return m;
}

void send_all(std::vector<rte_mbuf*> pkts) {
  size_t sent = 0;
  for (int tries = 0; sent < pkts.size() && tries < 1000; ++tries) {
    sent +=
        rte_eth_tx_burst(kPort, 0, pkts.data() + sent, static_cast<uint16_t>(pkts.size() - sent));
    if (sent < pkts.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (sent < pkts.size()) fail("the vhost-user ring stayed full");
}

int send(const Options& o, rte_mempool* pool) {
  if (o.peer == 0) fail("sending needs --peer");
  std::vector<rte_mbuf*> pkts;
  if (o.mode == "send-udp-partial") {
    for (uint32_t i = 0; i < o.count; ++i) pkts.push_back(make_udp(pool, o, true));
  } else if (o.mode == "send-bad-tso") {
    for (uint32_t i = 0; i < o.count; ++i) pkts.push_back(make_bad_tso(pool, o));
    send_all(pkts);
    pkts.clear();
    // The worker that refused those keeps forwarding: good datagrams after them.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Options good = o;
    good.payload = 100;
    for (uint32_t i = 0; i < o.count; ++i) pkts.push_back(make_udp(pool, good, false));
  } else {
    fail("unknown mode");
  }
  send_all(pkts);
  // Let the driver's ring drain before the process (and its memory) goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::printf("%s: sent\n", o.mode.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int eal = rte_eal_init(argc, argv);
  if (eal < 0) fail("rte_eal_init failed");
  const Options o = parse(argc - eal - 1, argv + eal + 1);
  rte_mempool* pool = start_port(o);
  const int rc = o.mode.rfind("recv", 0) == 0 ? receive(o) : send(o, pool);
  rte_eth_dev_stop(kPort);
  rte_eth_dev_close(kPort);
  rte_eal_cleanup();
  return rc;
}
