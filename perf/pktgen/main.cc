// podvs-pktgen: traffic generator and sink for perf/bench. Usage:
//   podvs-pktgen [EAL args] -- --tx-socket A --rx-socket B [options]
// With --vxlan-tx it plays a remote VTEP sending to a switch's uplink, with --vxlan-rx it receives
// what a switch encapsulated (vxlan.h); --answer-arp answers for that VTEP's address (arp.h).
// --new-flows makes every packet a new connection (new_flows.h); --expect-dst checks that a
// switch's DNAT rewrote what arrives (dst_check.h).
// Lcores: with one EAL lcore, one loop alternates tx and rx bursts; with two, the main lcore
// sends and the next one receives (they may share a CPU, e.g. --lcores 0@0,1@0, in which case
// each loop yields the CPU when it has nothing to do).
#include <limits.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sched.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "perf/pktgen/arp.h"
#include "perf/pktgen/flows.h"
#include "perf/pktgen/headroom.h"
#include "perf/pktgen/new_flows.h"
#include "perf/pktgen/options.h"
#include "perf/pktgen/port.h"
#include "perf/pktgen/report.h"
#include "perf/pktgen/rx_loop.h"
#include "perf/pktgen/tx_loop.h"
#include "perf/pktgen/vxlan.h"
#include "perf/pktgen/window_marker.h"

namespace podvs::pktgen {
namespace {

// Written by the signal handler, read by the loops: the first signal stops sending (the run
// still drains and reports), a second one also ends the drain.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_hard_stop{false};

// Startup, until both links are up: virtio_user in server mode blocks in accept() inside
// rte_dev_probe until a switch connects, and signals do not interrupt it. A timer bounds that wait;
// the timer or a signal during startup ends the process from the handler, removing the sockets
// pktgen created. Written before the timer is armed, read only by the handlers.
struct Startup {
  std::atomic<bool> active{false};
  bool server = false;
  char tx_socket[PATH_MAX] = {};
  char rx_socket[PATH_MAX] = {};
  char message[PATH_MAX * 3] = {};
};
Startup g_startup;

[[noreturn]] void abandon_startup(const char* message) {
  if (message != nullptr) (void)!write(STDERR_FILENO, message, std::strlen(message));
  if (g_startup.server) {
    unlink(g_startup.tx_socket);
    unlink(g_startup.rx_socket);
  }
  _exit(1);
}

void on_signal(int) {
  if (g_startup.active) abandon_startup("podvs-pktgen: interrupted while waiting for the switch\n");
  if (g_stop.exchange(true)) g_hard_stop = true;
}

void on_startup_timeout(int) {
  if (g_startup.active) abandon_startup(g_startup.message);
}

void arm_startup_timer(const Options& o) {
  g_startup.server = o.server;
  std::snprintf(g_startup.tx_socket, sizeof(g_startup.tx_socket), "%s", o.tx_socket.c_str());
  std::snprintf(g_startup.rx_socket, sizeof(g_startup.rx_socket), "%s", o.rx_socket.c_str());
  std::snprintf(g_startup.message, sizeof(g_startup.message),
                "podvs-pktgen: no switch connected to %s and %s within %g s (--wait-link): is the "
                "switch running and attached to these sockets?\n",
                o.tx_socket.c_str(), o.rx_socket.c_str(), o.wait_link_s);
  g_startup.active = true;
  std::signal(SIGALRM, on_startup_timeout);
  // A little later than wait_for_links' own deadline, which reports more precisely when it can.
  constexpr double kGraceS = 0.5;
  const double s = o.wait_link_s + kGraceS;
  itimerval t{};
  t.it_value.tv_sec = static_cast<time_t>(s);
  t.it_value.tv_usec = static_cast<suseconds_t>((s - static_cast<double>(t.it_value.tv_sec)) * 1e6);
  setitimer(ITIMER_REAL, &t, nullptr);
}

void disarm_startup_timer() {
  g_startup.active = false;
  itimerval t{};
  setitimer(ITIMER_REAL, &t, nullptr);
}

// A tx ring of queue_size plus a pending burst and the per-lcore caches; the rx pool feeds two
// rings (the tx port's rx queue is mostly idle but still filled with buffers).
constexpr unsigned kPoolSize = 8191;
constexpr unsigned kPoolCache = 256;
// ARP replies the receive loop hands to the transmit loop (rx_loop.h); a handful is plenty, as
// switches ask once a second at most.
constexpr unsigned kArpRingSize = 64;

// Latency sampling assumes this rate when running unpaced, to size the sampling interval.
constexpr double kLineRateGuessPps = 30e6;

// In single-lcore mode, receive bursts per transmit burst at most, so sending never stalls.
constexpr unsigned kMaxRxBurstsPerTx = 8;

// Tx and rx lcores on one CPU: the sender yields at least this often, so the receiver drains the
// rx ring (1024 descriptors) before the switch finds it full.
constexpr unsigned kTxBurstsPerYield = 8;

// A loop iteration (one tx burst and up to kMaxRxBurstsPerTx rx bursts) takes a few microseconds;
// one this long means the thread lost its CPU, which the headroom counts as stalled (headroom.h).
constexpr double kStallUs = 50;

struct RxWorker {
  RxLoop* loop;
  std::atomic<uint64_t>* tx_done_tsc;  // 0 while the tx loop runs
  uint64_t drain_cycles;
  bool yield;
  HeadroomMeter* headroom;
};

bool drained(const RxWorker& w, uint64_t now) {
  const uint64_t done = w.tx_done_tsc->load(std::memory_order_acquire);
  return g_hard_stop || (done != 0 && now >= done + w.drain_cycles);
}

int rx_worker_main(void* arg) {
  const auto& w = *static_cast<RxWorker*>(arg);
  uint64_t begin = rte_rdtsc();
  bool worked = false;
  for (;;) {
    const uint64_t now = rte_rdtsc();
    w.headroom->iteration(begin, now, worked);
    begin = now;
    if (drained(w, now)) break;
    worked = w.loop->poll() > 0;
    if (!worked && w.yield) sched_yield();
  }
  return 0;
}

bool lcores_share_cpu(unsigned a, unsigned b) {
  rte_cpuset_t sa = rte_lcore_cpuset(a);
  rte_cpuset_t sb = rte_lcore_cpuset(b);
  rte_cpuset_t both;
  CPU_AND(&both, &sa, &sb);
  return CPU_COUNT(&both) > 0;
}

rte_mempool* make_pool(const char* name) {
  rte_mempool* pool = rte_pktmbuf_pool_create(name, kPoolSize, kPoolCache, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool == nullptr)
    std::cerr << "podvs-pktgen: cannot create mempool " << name << ": " << rte_strerror(rte_errno)
              << " (are hugepages reserved? see scripts/setup.sh)\n";
  return pool;
}

// With --answer-arp, one gratuitous ARP on each port that faces the underlay (the VXLAN side; the
// rx port when VXLAN is not used), so that a switch learns the remote VTEP without asking.
void announce(const Options& o, uint16_t tx_port, uint16_t rx_port, rte_mempool* pool) {
  if (!o.answer_arp) return;
  std::vector<uint16_t> ports;
  if (o.vxlan_tx) ports.push_back(tx_port);
  if (o.vxlan_rx || !o.vxlan_tx) ports.push_back(rx_port);
  for (uint16_t port : ports) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return;
    make_gratuitous_arp(rte_pktmbuf_mtod(m, uint8_t*), *o.answer_arp);
    m->data_len = m->pkt_len = kArpFrameLen;
    if (rte_eth_tx_burst(port, 0, &m, 1) != 1) rte_pktmbuf_free(m);
  }
}

VxlanTx make_vxlan_tx(const Options& o, const FlowSet& flow_set) {
  VxlanTx v;
  v.outer = make_vxlan_outer(o.vxlan, o.frame.frame_len);
  v.source_ports.resize(o.flows);
  for (uint32_t f = 0; f < o.flows; ++f)
    v.source_ports[f] = vxlan_source_port(flow_set.tuple(f), o.frame.proto);
  return v;
}

int run(const Options& o) {
  WindowMarker marker;
  if (const std::string error = marker.open(o.mark_window); !error.empty()) {
    std::cerr << "podvs-pktgen: " << error << "\n";
    return 1;
  }
  rte_mempool* tx_pool = make_pool("pktgen_tx");
  rte_mempool* rx_pool = make_pool("pktgen_rx");
  if (tx_pool == nullptr || rx_pool == nullptr) return 1;
  zero_fill_pool(tx_pool, static_cast<uint16_t>(o.tx_wire_size() - RTE_ETHER_CRC_LEN));
  rte_ring* arp_ring = nullptr;
  if (o.answer_arp) {
    arp_ring =
        rte_ring_create("pktgen_arp", kArpRingSize, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (arp_ring == nullptr) {
      std::cerr << "podvs-pktgen: cannot create the ARP reply ring: " << rte_strerror(rte_errno)
                << "\n";
      return 1;
    }
  }

  RunResult result;
  {
    VirtioPort tx_port, rx_port;
    arm_startup_timer(o);
    std::string error = tx_port.open(
        {"net_virtio_user_pgtx", o.tx_socket, o.server, o.tx_mac, o.queue_size, rx_pool,
         o.virtio_args});
    if (error.empty())
      error = rx_port.open(
          {"net_virtio_user_pgrx", o.rx_socket, o.server, o.rx_mac, o.queue_size, rx_pool,
           o.virtio_args});
    if (error.empty()) error = wait_for_links(tx_port, rx_port, o.wait_link_s, g_stop);
    disarm_startup_timer();
    if (!error.empty()) {
      std::cerr << "podvs-pktgen: " << error << "\n";
      return 1;
    }
    announce(o, tx_port.id(), rx_port.id(), rx_pool);

    FlowSet flow_set;
    flow_set.init(o.ranges, o.flows);  // validated by parse_options
    std::vector<FlowTemplate> flows(o.flows);
    for (uint32_t f = 0; f < o.flows; ++f) flows[f] = make_template(o.frame, flow_set.tuple(f), f);
    const VxlanTx vxlan_tx = o.vxlan_tx ? make_vxlan_tx(o, flow_set) : VxlanTx{};
    std::optional<NewFlows> new_flows;
    if (o.new_flows > 0) {
      FlowSet new_set;
      new_set.init(o.ranges, o.new_flows);  // validated by parse_options
      new_flows.emplace(new_set, o.frame.proto);
    }

    const double hz = static_cast<double>(rte_get_tsc_hz());
    const double expected =
        (o.rate_mpps > 0 ? o.rate_mpps * 1e6 : kLineRateGuessPps) * o.duration_s;
    const auto every = static_cast<uint64_t>(expected / static_cast<double>(o.latency_samples)) + 1;
    std::optional<VxlanRx> vxlan_rx;
    if (o.vxlan_rx) vxlan_rx = VxlanRx{o.vxlan.udp_port, o.vxlan.vni};
    RxStats rx_stats(o.flows, o.latency_samples, every, vxlan_rx, o.expect_dst);

    TxPhases phases;
    phases.start_tsc = rte_rdtsc();
    phases.measure_tsc = phases.start_tsc + static_cast<uint64_t>(o.warmup_s * hz);
    phases.end_tsc = phases.measure_tsc + static_cast<uint64_t>(o.duration_s * hz);
    const double pkts_per_cycle = o.rate_mpps * 1e6 / hz;
    TxLoop tx(tx_port.id(), tx_pool, flows, o.frame, phases, pkts_per_cycle,
              o.vxlan_tx ? &vxlan_tx : nullptr, arp_ring, new_flows ? &*new_flows : nullptr);
    RxLoop rx(rx_port.id(), tx_port.id(), rx_stats, o.answer_arp, arp_ring);

    const auto stall_cycles = static_cast<uint64_t>(kStallUs * 1e-6 * hz);
    HeadroomMeter tx_headroom(phases.measure_tsc, phases.end_tsc, stall_cycles);
    HeadroomMeter rx_headroom(phases.measure_tsc, phases.end_tsc, stall_cycles);
    std::atomic<uint64_t> tx_done_tsc{0};
    RxWorker worker{&rx, &tx_done_tsc, static_cast<uint64_t>(o.drain_s * hz), false, &rx_headroom};
    const unsigned rx_lcore = rte_get_next_lcore(-1, 1, 0);
    bool progress = false;
    uint64_t begin = rte_rdtsc();
    bool worked = false;
    if (rx_lcore >= RTE_MAX_LCORE) {
      result.lcore_mode = "single";
      for (;;) {
        const uint64_t now = rte_rdtsc();
        tx_headroom.iteration(begin, now, worked);
        begin = now;
        if (now >= phases.measure_tsc) marker.start();
        progress = false;
        if (tx_done_tsc.load(std::memory_order_relaxed) == 0 && !tx.poll(now, g_stop, progress)) {
          tx_done_tsc = now;
          marker.end();
        }
        // Drain while full bursts arrive: a switch that finds the rx ring full drops the packet.
        unsigned received = 0;
        for (unsigned i = 0; i < kMaxRxBurstsPerTx; ++i) {
          const uint16_t n = rx.poll();
          received += n;
          if (n != kBurst) break;
        }
        worked = progress || received > 0;
        if (drained(worker, now)) break;
      }
      result.headroom = {{"loop", tx_headroom.counters()}};
    } else {
      worker.yield = lcores_share_cpu(rte_get_main_lcore(), rx_lcore);
      result.lcore_mode = worker.yield ? "split-shared-cpu" : "split";
      rte_eal_remote_launch(rx_worker_main, &worker, rx_lcore);
      unsigned bursts = 0;
      for (;;) {
        const uint64_t now = rte_rdtsc();
        tx_headroom.iteration(begin, now, worked);
        begin = now;
        if (now >= phases.measure_tsc) marker.start();
        if (!tx.poll(now, g_stop, progress)) break;
        worked = progress;
        if (worker.yield && (!progress || ++bursts % kTxBurstsPerYield == 0)) sched_yield();
      }
      marker.end();
      tx_done_tsc.store(rte_rdtsc(), std::memory_order_release);
      rte_eal_wait_lcore(rx_lcore);
      result.headroom = {{"tx", tx_headroom.counters()}, {"rx", rx_headroom.counters()}};
    }

    result.tx = tx.counters();
    result.rx = rx_stats.counters();
    result.arp = rx.arp();
    result.tx_port_received = rx.tx_port_received();
    result.stopped_early = g_stop;
    result.tsc_hz = hz;
    if (result.tx.first_measured_tsc != 0)
      result.measured_s =
          static_cast<double>(result.tx.last_tsc - result.tx.first_measured_tsc) / hz;
    result.latency = rx_stats.latency().summarize(hz);
    result.latency_every = rx_stats.latency().every();
  }  // the ports stop and close here, before the pools go
  if (arp_ring != nullptr) {
    rte_mbuf* m = nullptr;
    while (rte_ring_sc_dequeue(arp_ring, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(arp_ring);
  }
  rte_mempool_free(tx_pool);
  rte_mempool_free(rx_pool);
  print_report(o, result, std::cout);
  return 0;
}

}  // namespace
}  // namespace podvs::pktgen

int main(int argc, char** argv) {
  using namespace podvs::pktgen;
  // EAL arguments come before "--", ours after it (all are ours without "--", so that --help
  // works alone); each parser sees argv[0] first.
  int split = 1;
  while (split < argc && std::strcmp(argv[split], "--") != 0) ++split;
  if (split == argc) split = 0;
  std::vector<char*> app_args{argv[0]};
  for (int i = split + 1; i < argc; ++i) app_args.push_back(argv[i]);
  int exit_code = 0;
  const auto options = parse_options(static_cast<int>(app_args.size()), app_args.data(), exit_code);
  if (!options) return exit_code;

  if (rte_eal_init(split == 0 ? 1 : split, argv) < 0) {
    std::cerr << "podvs-pktgen: EAL initialisation failed: " << rte_strerror(rte_errno) << "\n";
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const int rc = run(*options);
  rte_eal_cleanup();
  return rc;
}
