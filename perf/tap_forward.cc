// podvs-tap-forward: the ceiling of podvs's tap backend alone. Two taps, one in each of two
// network namespaces, and one core moving every frame from each to the other with tap_io's
// readv/writev, virtio-net headers and all, but no pipeline: what a kernel pod's TCP stream can
// reach through podvs's tap I/O, to compare with a veth pair (perf/tap_forward_iperf.sh).
//   podvs-tap-forward NETNS_A NETNS_B SECONDS [--segment]
// --segment cuts super-frames into MSS-sized segments (and completes checksums) before writing
// them, as podvs must for an output without TSO: the cost of software segmentation.
// Prints one JSON line of counters when done.
#include <fcntl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "offload/output_offload.h"
#include "offload/tcp_segmentation.h"
#include "ports/tap_port.h"

namespace {

using podvs::TapPort;

// Runs `fn` inside the network namespace /var/run/netns/NAME, back in our own afterwards.
template <typename Fn>
auto in_netns(const std::string& name, Fn fn) {
  const int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0)
    throw std::runtime_error("cannot enter network namespace " + name);
  close(target);
  auto result = fn();
  if (setns(self, CLONE_NEWNET) != 0) throw std::runtime_error("cannot return to our namespace");
  close(self);
  return result;
}

struct Counters {
  uint64_t frames = 0, bytes = 0, super_frames = 0, written = 0, refused = 0, rejected = 0;
};

// Moves one burst from `from` to `to`; returns the frames moved.
uint16_t forward(TapPort& from, TapPort& to, bool segment, Counters& c) {
  rte_mbuf* pkts[podvs::kTapBurst];
  podvs::RxRejects rejects;
  const uint16_t n = podvs::tap_rx_burst(from.rxq(0), pkts, podvs::kTapBurst, rejects);
  c.rejected += rejects.count;
  for (uint16_t i = 0; i < rejects.count; ++i) rte_pktmbuf_free(rejects.pkts[i]);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ++c.frames;
    c.bytes += m->pkt_len;
    if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) ++c.super_frames;
    rte_mbuf* out[podvs::kMaxGsoSegments];
    uint16_t count = 1;
    out[0] = m;
    if (segment && podvs::needs_software_offload(m, {})) {
      count = podvs::finish_offloads(m, out, podvs::kMaxGsoSegments);
      if (count == 0) {
        rte_pktmbuf_free(m);
        ++c.refused;
        continue;
      }
    }
    const uint16_t sent = podvs::tap_tx_burst(to.tx_fd(0), out, count);
    c.written += sent;
    c.refused += count - sent;
    rte_pktmbuf_free_bulk(out + sent, count - sent);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s NETNS_A NETNS_B SECONDS [--segment]\n", argv[0]);
    return 2;
  }
  const std::string ns_a = argv[1], ns_b = argv[2];
  const double seconds = std::atof(argv[3]);
  const bool segment = argc > 4 && std::strcmp(argv[4], "--segment") == 0;
  const std::string prefix = "--file-prefix=tapfwd" + std::to_string(getpid());
  // No hugepages and no shared config: a benchmark tool that runs anywhere, on either core.
  std::vector<std::string> eal_args = {
      argv[0],       "--no-huge",        "-m",   "512",          "--no-pci",
      "--no-shconf", "--lcores=0@(0-1)", prefix, "--log-level=1"};
  std::vector<char*> eal_argv;
  for (auto& a : eal_args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  int rc = 0;
  {
    rte_mempool* pool =
        rte_pktmbuf_pool_create("fwd_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rte_mempool* large = podvs::create_tap_large_pool("fwd_large", 511, SOCKET_ID_ANY);
    if (pool == nullptr || large == nullptr) {
      std::fprintf(stderr, "mbuf pools: %s\n", rte_strerror(rte_errno));
      return 1;
    }
    try {
      auto a = in_netns(ns_a, [&] { return std::make_unique<TapPort>("tfwd0", 1, pool, large); });
      auto b = in_netns(ns_b, [&] { return std::make_unique<TapPort>("tfwd0", 1, pool, large); });
      std::printf("ready\n");
      std::fflush(stdout);
      Counters ab, ba;
      const uint64_t hz = rte_get_tsc_hz();
      const uint64_t end = rte_rdtsc() + static_cast<uint64_t>(seconds * static_cast<double>(hz));
      uint64_t busy = 0, polls = 0;
      while (rte_rdtsc() < end) {
        const uint64_t t0 = rte_rdtsc();
        const uint16_t moved = forward(*a, *b, segment, ab) + forward(*b, *a, segment, ba);
        ++polls;
        if (moved != 0) busy += rte_rdtsc() - t0;
      }
      std::printf(
          "{\"seconds\": %.1f, \"segment\": %s, \"a_to_b\": {\"frames\": %lu, \"bytes\": %lu, "
          "\"super_frames\": %lu, \"written\": %lu, \"refused\": %lu, \"rejected\": %lu}, "
          "\"b_to_a\": {\"frames\": %lu, \"bytes\": %lu, \"written\": %lu}, \"readv\": %lu, "
          "\"polls\": %lu, \"busy_share\": %.3f}\n",
          seconds, segment ? "true" : "false", ab.frames, ab.bytes, ab.super_frames, ab.written,
          ab.refused, ab.rejected, ba.frames, ba.bytes, ba.written, a->reads() + b->reads(), polls,
          static_cast<double>(busy) / (seconds * static_cast<double>(hz)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      rc = 1;
    }
    rte_mempool_free(large);
    rte_mempool_free(pool);
  }
  rte_eal_cleanup();
  return rc;
}
