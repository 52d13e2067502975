// stage_bench: what each stage of podvs's pod-to-pod path costs, in TSC cycles per packet, on
// real mbufs in a real DPDK EAL (no hugepages needed). At -O3 the pipeline's stages are inlined
// into process_burst, so a profile of podvsd (perf/cycle_budget.py) sees them as one function;
// here each runs alone over bursts of 32 64-byte frames, round-robin over 1 or 1,000 flows, as the
// pipeline runs it. The whole pipeline (process_burst, transmitting to a net_null port, which
// frees the mbufs) is measured too, less the cost of making and freeing its mbufs, and so is the
// whole pipeline of the VXLAN encap path (pod A to a pod of a remote node, out a net_null uplink).
//
// A stage's figure is its least group of about 1,024 packets (some 40 us) over --rounds rounds:
// on a machine shared with other work the core is taken away for milliseconds at a time, which
// inflated a whole round's average threefold at load 7, while most groups run undisturbed. Each
// stage's result is checked (every frame parsed as IPv4, every lookup a hit, every packet
// forwarded), and a wrong result fails the run: that check, not a speed, is what the unit suite
// runs (--quick).
//
// usage: stage_bench [--flows N] [--packets N] [--rounds N] [--quick]
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "overlay/vxlan_header.h"
#include "vswitch/anti_spoof.h"
#include "vswitch/flow_cache.h"
#include "vswitch/forwarding_table.h"
#include "vswitch/l3_forward.h"
#include "vswitch/packet_parse.h"
#include "vswitch/pipeline.h"
#include "vswitch/tx_buffers.h"
#include "vswitch/worker_counters.h"

namespace podvs {
namespace {

// The ports are the EAL's net_null0..3, in that order: the host, pod A (sender), pod B, the uplink.
constexpr uint16_t kHostPort = 0, kPodAPort = 1, kPodBPort = 2, kUplinkPort = 3;
constexpr uint16_t kPorts[] = {kHostPort, kPodAPort, kPodBPort, kUplinkPort};
constexpr const char* kGatewayMac = "0a:58:a9:fe:01:01";
constexpr const char* kHostMac = "0a:58:0a:f4:00:01";
constexpr const char* kPodAMac = "0a:58:0a:f4:00:02";
constexpr const char* kPodBMac = "0a:58:0a:f4:00:03";
constexpr Ipv4 kPodAIp = 0x0af40002, kPodBIp = 0x0af40003;  // 10.244.0.2, 10.244.0.3
// The overlay: this node is 192.168.50.1, the remote node 192.168.50.2 owns 10.244.1.0/24.
constexpr const char* kUplinkMac = "02:00:00:00:50:01";
constexpr const char* kNextHopMac = "02:00:00:00:50:02";
constexpr const char* kRemoteVtepMac = "02:00:00:00:50:12";
constexpr Ipv4 kNodeIp = 0xc0a83201, kRemoteNodeIp = 0xc0a83202;
constexpr Ipv4 kRemotePodIp = 0x0af40102;  // 10.244.1.2
constexpr uint16_t kFrameLen = 60;         // 64 bytes on the wire with FCS
constexpr uint8_t kTtl = 64;
// Passes are timed together until they hold this many packets; the rewrite stage lowers a
// frame's TTL at most 1024 / 32 = 32 times in a group, and its frames are restored (untimed)
// before each group, well before the TTL of 64 runs out.
constexpr uint64_t kTimedPackets = 1024;

struct Options {
  uint32_t flows = 1;
  uint64_t packets = 20'000'000;  // per round of each stage
  unsigned rounds = 5;
};

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      o.packets = 100'000;
      o.rounds = 1;
    } else if (a == "--flows" && has_value) {
      o.flows = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--packets" && has_value) {
      o.packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--rounds" && has_value) {
      o.rounds = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      std::fprintf(stderr, "usage: stage_bench [--flows N] [--packets N] [--rounds N] [--quick]\n");
      return false;
    }
  }
  if (o.flows < 1 || o.flows > 65535 || o.rounds < 1 || o.packets < 32) {
    std::fprintf(stderr, "stage_bench: --flows 1..65535, --rounds >= 1, --packets >= 32\n");
    return false;
  }
  return true;
}

bool start_eal(const char* program) {
  const std::string prefix = "--file-prefix=stage_bench_" + std::to_string(getpid());
  std::vector<std::string> args = {program,
                                   "--no-huge",
                                   "-m",
                                   "256",
                                   "--no-shconf",
                                   "--no-pci",
                                   prefix,
                                   "--log-level=1",
                                   "--vdev=net_null0",
                                   "--vdev=net_null1",
                                   "--vdev=net_null2",
                                   "--vdev=net_null3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

bool start_port(uint16_t port, rte_mempool* pool) {
  rte_eth_conf conf{};
  return rte_eth_dev_configure(port, 1, 1, &conf) == 0 &&
         rte_eth_rx_queue_setup(port, 0, 256, 0, nullptr, pool) == 0 &&
         rte_eth_tx_queue_setup(port, 0, 256, 0, nullptr) == 0 && rte_eth_dev_start(port) == 0;
}

// podvsd's table for two pods: what the bench's pods get (pod A sends to pod B).
std::unique_ptr<ForwardingTable> make_table() {
  std::vector<PortEntry> ports(kDefaultPortCapacity);
  ports[kHostPort] = PortEntry{
      true, true, false, to_rte(*MacAddr::parse(kHostMac)), 0, PortIo::of_ethdev(kHostPort)};
  ports[kPodAPort] = PortEntry{true,
                               false,
                               true,
                               to_rte(*MacAddr::parse(kPodAMac)),
                               rte_cpu_to_be_32(kPodAIp),
                               PortIo::of_ethdev(kPodAPort)};
  ports[kPodBPort] = PortEntry{true,
                               false,
                               true,
                               to_rte(*MacAddr::parse(kPodBMac)),
                               rte_cpu_to_be_32(kPodBIp),
                               PortIo::of_ethdev(kPodBPort)};
  ports[kUplinkPort] = PortEntry{true,
                                 false,
                                 false,
                                 to_rte(*MacAddr::parse(kUplinkMac)),
                                 rte_cpu_to_be_32(kNodeIp),
                                 PortIo::of_ethdev(kUplinkPort)};
  const ForwardingConfig config{*Ipv4Prefix::parse("10.244.0.0/24"), 0x0af40001, 0xa9fe0101,
                                *MacAddr::parse(kGatewayMac)};
  auto table = std::make_unique<ForwardingTable>(
      1, config, ports, kHostPort,
      std::vector<ForwardingTable::PodRoute>{{kPodAIp, kPodAPort}, {kPodBIp, kPodBPort}});
  // As perf/bench.py's VXLAN scenarios configure podvsd: MTU 1600, no outer UDP checksum.
  OverlayState o;
  o.uplink_port = kUplinkPort;
  o.vtep_mac = to_rte(*MacAddr::parse(kUplinkMac));
  o.node_ip = rte_cpu_to_be_32(kNodeIp);
  o.vxlan = VxlanParams{4789, 1, false};
  o.max_inner_ip_len = 1600 - kVxlanOverhead;
  o.cluster_net = rte_cpu_to_be_32(0x0af40000);
  o.cluster_mask = rte_cpu_to_be_32(0xffff0000);
  RemoteNode remote{
      *Ipv4Prefix::parse("10.244.1.0/24"), to_rte(*MacAddr::parse(kRemoteVtepMac)), true, {}};
  remote.outer = make_vxlan_outer(o.vxlan, o.vtep_mac, to_rte(*MacAddr::parse(kNextHopMac)),
                                  o.node_ip, rte_cpu_to_be_32(kRemoteNodeIp));
  o.nodes = {remote};
  table->set_overlay(o);
  return table;
}

// A 60-byte UDP frame from pod A to `dst` (pod B or a remote pod) through the gateway; flows
// differ in the source port.
std::vector<uint8_t> make_frame(uint32_t flow, Ipv4 dst = kPodBIp) {
  std::vector<uint8_t> f(kFrameLen, 0);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
  eth->dst_addr = to_rte(*MacAddr::parse(kGatewayMac));
  eth->src_addr = to_rte(*MacAddr::parse(kPodAMac));
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(kFrameLen - sizeof(rte_ether_hdr));
  ip->time_to_live = kTtl;
  ip->next_proto_id = IPPROTO_UDP;
  ip->src_addr = rte_cpu_to_be_32(kPodAIp);
  ip->dst_addr = rte_cpu_to_be_32(dst);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + flow));
  udp->dst_port = rte_cpu_to_be_16(5000);
  udp->dgram_len = rte_cpu_to_be_16(kFrameLen - sizeof(rte_ether_hdr) - sizeof(rte_ipv4_hdr));
  return f;
}

void write_frame(rte_mbuf* m, const std::vector<uint8_t>& frame) {
  std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame.data(), frame.size());
  m->data_len = m->pkt_len = static_cast<uint16_t>(frame.size());
  m->port = kPodAPort;
}

// Keeps the compiler from dropping work whose result is otherwise unused.
template <typename T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

struct Stage {
  const char* name;
  // One pass over every burst; returns whether the stage did the right thing.
  std::function<bool()> pass;
  // Untimed work before each timed group of passes (restoring what the stage changed), or null.
  std::function<void()> between = nullptr;
};

class Bench {
 public:
  Bench(const Options& o, rte_mempool* pool)
      : o_(o), pool_(pool), table_(make_table()), cache_(1u << 16) {
    cache_.sync(table_->version());
    // Enough frames for every flow to appear, a whole number of bursts.
    const uint32_t n =
        ((std::max<uint32_t>(o.flows, kBurstSize) + kBurstSize - 1) / kBurstSize) * kBurstSize;
    for (uint32_t f = 0; f < o.flows; ++f) frames_.push_back(make_frame(f));
    for (uint32_t f = 0; f < o.flows; ++f) encap_frames_.push_back(make_frame(f, kRemotePodIp));
    mbufs_.resize(n);
    parsed_.resize(n);
    hashes_.resize(n);
    if (rte_pktmbuf_alloc_bulk(pool_, mbufs_.data(), n) != 0) std::abort();
    for (uint32_t i = 0; i < n; ++i) write_frame(mbufs_[i], frames_[i % o.flows]);
    for (uint32_t i = 0; i < n; ++i) {
      parsed_[i] = parse_packet(mbufs_[i], kPodAPort);
      hashes_[i] = FlowCache::hash(parsed_[i].key);
      cache_.insert(parsed_[i].key, hashes_[i], table_->route(parsed_[i].key.dst_ip, kPodAPort));
    }
  }
  ~Bench() { rte_pktmbuf_free_bulk(mbufs_.data(), static_cast<unsigned>(mbufs_.size())); }

  uint32_t packets_per_pass() const { return static_cast<uint32_t>(mbufs_.size()); }

  // The least cycles per packet of a group over the rounds, or a negative number when the stage
  // was wrong. Passes are timed in groups of at least kTimedPackets, so that reading the TSC
  // (tens of cycles, serialised) stays out of the figure even with one burst per pass.
  double run(const Stage& s) {
    const uint64_t group = std::max<uint64_t>(1, kTimedPackets / packets_per_pass());
    const uint64_t groups = std::max<uint64_t>(1, o_.packets / (group * packets_per_pass()));
    uint64_t best = UINT64_MAX;
    for (unsigned r = 0; r < o_.rounds; ++r) {
      for (uint64_t g = 0; g < groups; ++g) {
        if (s.between) s.between();
        bool ok = true;
        const uint64_t t0 = rte_rdtsc_precise();
        for (uint64_t p = 0; p < group; ++p) ok &= s.pass();
        best = std::min(best, rte_rdtsc_precise() - t0);
        if (!ok) return -1;
      }
    }
    return static_cast<double>(best) / static_cast<double>(group * packets_per_pass());
  }

  std::vector<Stage> stages() {
    std::vector<Stage> out;
    out.push_back({"parse (parse_packet)", [this] {
                     bool ok = true;
                     for (size_t i = 0; i < mbufs_.size(); ++i) {
                       const ParsedPacket p = parse_packet(mbufs_[i], kPodAPort);
                       ok &= p.cls == PacketClass::ipv4;
                       keep(p.key);
                     }
                     return ok;
                   }});
    out.push_back({"flow hash (FlowCache::hash)", [this] {
                     uint32_t sum = 0;
                     for (const ParsedPacket& p : parsed_) sum += FlowCache::hash(p.key);
                     keep(sum);
                     return true;
                   }});
    out.push_back({"flow cache lookup, prefetched per burst (hit)", [this] {
                     bool ok = true;
                     for (size_t b = 0; b < parsed_.size(); b += kBurstSize) {
                       for (size_t i = b; i < b + kBurstSize; ++i) cache_.prefetch(hashes_[i]);
                       for (size_t i = b; i < b + kBurstSize; ++i) {
                         const ForwardAction* a = cache_.lookup(parsed_[i].key, hashes_[i]);
                         ok &= a != nullptr && a->out_port == kPodBPort;
                         keep(a);
                       }
                     }
                     return ok;
                   }});
    out.push_back({"route lookup (only on a cache miss)", [this] {
                     bool ok = true;
                     for (const ParsedPacket& p : parsed_) {
                       const ForwardAction a = table_->route(p.key.dst_ip, kPodAPort);
                       ok &= a.out_port == kPodBPort;
                       keep(a);
                     }
                     return ok;
                   }});
    out.push_back({"anti-spoof (source_allowed)", [this] {
                     bool ok = true;
                     const PortEntry& port = table_->port(kPodAPort);
                     for (const ParsedPacket& p : parsed_) ok &= source_allowed(port, p.eth, p.ip);
                     return ok;
                   }});
    const ForwardAction to_b = table_->route(rte_cpu_to_be_32(kPodBIp), kPodAPort);
    out.push_back({"rewrite: TTL and checksum, MACs (decrement_ttl, rewrite_l2)",
                   [this, to_b] {
                     bool ok = true;
                     for (const ParsedPacket& p : parsed_) {
                       ok &= decrement_ttl(p.ip);
                       rewrite_l2(p.eth, table_->gateway_mac(), to_b);
                     }
                     return ok;
                   },
                   [this] {
                     for (size_t i = 0; i < mbufs_.size(); ++i)
                       write_frame(mbufs_[i], frames_[i % o_.flows]);
                   }});
    out.push_back({"counters: a burst's adds (rx packets, bytes, cache hits, misses)", [this] {
                     PortCounters& pc = counters_.ports[kPodAPort];
                     for (size_t b = 0; b < parsed_.size(); b += kBurstSize) {
                       pc.rx_packets.add(kBurstSize);
                       pc.rx_bytes.add(kBurstSize * kFrameLen);
                       counters_.flow_cache_hits.add(kBurstSize);
                       counters_.flow_cache_misses.add(0);
                     }
                     return true;
                   }});
    return out;
  }

  // process_burst over freshly made mbufs of `frames`, sent on to a net_null port that frees them;
  // less the making and freeing alone. Returns {whole, making and freeing} in cycles per packet.
  std::pair<double, double> pipeline(bool encap) {
    const std::vector<std::vector<uint8_t>>& frames = encap ? encap_frames_ : frames_;
    std::vector<rte_mbuf*> burst(kBurstSize);
    uint32_t next_flow = 0;
    const auto make = [&] {
      if (rte_pktmbuf_alloc_bulk(pool_, burst.data(), kBurstSize) != 0) std::abort();
      for (rte_mbuf* m : burst) {
        write_frame(m, frames[next_flow]);
        if (++next_flow == o_.flows) next_flow = 0;
      }
    };
    // Timed in groups of kTimedPackets, the least group kept (as run() does).
    const uint64_t group = kTimedPackets / kBurstSize;
    const uint64_t groups = std::max<uint64_t>(1, o_.packets / kTimedPackets);
    uint64_t whole = UINT64_MAX, baseline = UINT64_MAX;
    for (unsigned r = 0; r < o_.rounds; ++r) {
      for (uint64_t g = 0; g < groups; ++g) {
        uint64_t t0 = rte_rdtsc_precise();
        for (uint64_t b = 0; b < group; ++b) {
          make();
          rte_pktmbuf_free_bulk(burst.data(), kBurstSize);
        }
        baseline = std::min(baseline, rte_rdtsc_precise() - t0);
      }
      const uint64_t sent_before = counters_.tx_packets.get();
      for (uint64_t g = 0; g < groups; ++g) {
        const uint64_t t0 = rte_rdtsc_precise();
        for (uint64_t b = 0; b < group; ++b) {
          make();
          BurstContext ctx{*table_, cache_, tx_, counters_, 0};
          process_burst(kPodAPort, burst.data(), kBurstSize, ctx);
          tx_.flush_all(*table_, 0, counters_);
        }
        whole = std::min(whole, rte_rdtsc_precise() - t0);
      }
      if (counters_.tx_packets.get() - sent_before != groups * kTimedPackets) return {-1, -1};
    }
    return {static_cast<double>(whole) / kTimedPackets,
            static_cast<double>(baseline) / kTimedPackets};
  }

 private:
  Options o_;
  rte_mempool* pool_;
  std::unique_ptr<ForwardingTable> table_;
  FlowCache cache_;
  TxBuffers tx_;
  WorkerCounters counters_;
  std::vector<std::vector<uint8_t>> frames_;
  std::vector<std::vector<uint8_t>> encap_frames_;  // to a pod of the remote node
  std::vector<rte_mbuf*> mbufs_;
  std::vector<ParsedPacket> parsed_;
  std::vector<uint32_t> hashes_;
};

int run(const Options& o) {
  rte_mempool* pool = rte_pktmbuf_pool_create("stage_bench", 8191, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool == nullptr) {
    std::fprintf(stderr, "stage_bench: cannot create the mbuf pool\n");
    return 1;
  }
  for (uint16_t port : kPorts) {
    if (!start_port(port, pool)) {
      std::fprintf(stderr, "stage_bench: cannot start net_null port %u\n", port);
      return 1;
    }
  }
  int rc = 0;
  {
    auto bench = std::make_unique<Bench>(o, pool);
    std::printf(
        "stage_bench: 64-byte frames, %u flow(s), bursts of %u, least group of %llu packets "
        "over %u round(s) of %llu packets, TSC %.0f MHz\n",
        o.flows, kBurstSize, static_cast<unsigned long long>(kTimedPackets), o.rounds,
        static_cast<unsigned long long>(o.packets), static_cast<double>(rte_get_tsc_hz()) / 1e6);
    std::printf("| stage | cycles/packet |\n| --- | --- |\n");
    for (const Stage& s : bench->stages()) {
      const double c = bench->run(s);
      if (c < 0) {
        std::fprintf(stderr, "stage_bench: %s gave a wrong result\n", s.name);
        rc = 1;
        continue;
      }
      std::printf("| %s | %.1f |\n", s.name, c);
    }
    for (const bool encap : {false, true}) {
      const auto [whole, baseline] = bench->pipeline(encap);
      if (whole < 0) {
        std::fprintf(stderr, "stage_bench: process_burst did not forward every packet\n");
        rc = 1;
        continue;
      }
      std::printf(
          "| whole pipeline%s: process_burst and tx to a null port, less making and freeing "
          "the mbufs (%.1f) | %.1f |\n",
          encap ? ", VXLAN encap to a remote node's pod" : "", baseline, whole - baseline);
    }
  }
  for (uint16_t port : kPorts) {
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
  }
  rte_mempool_free(pool);
  return rc;
}

}  // namespace
}  // namespace podvs

int main(int argc, char** argv) {
  podvs::Options o;
  if (!podvs::parse_args(argc, argv, o)) return 2;
  if (!podvs::start_eal(argv[0])) {
    std::fprintf(stderr, "stage_bench: EAL initialisation failed\n");
    return 1;
  }
  const int rc = podvs::run(o);
  rte_eal_cleanup();
  return rc;
}
