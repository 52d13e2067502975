// Command-line options of podvs-pktgen (the part after EAL's arguments and "--").
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <optional>
#include <string>

#include "perf/pktgen/arp.h"
#include "perf/pktgen/dst_check.h"
#include "perf/pktgen/flows.h"
#include "perf/pktgen/frame.h"
#include "perf/pktgen/vxlan.h"

namespace podvs::pktgen {

struct Options {
  std::string tx_socket;
  std::string rx_socket;
  bool server = false;  // pktgen creates the sockets (virtio_user server=1)
  uint16_t queue_size = 1024;
  // More virtio_user devargs, e.g. "mrg_rxbuf=0,in_order=1,vectorized=1" (the virtio PMD's
  // vector receive path). None by default: measured on 2026-12-02, those three made no
  // difference against podvs and OVS-DPDK and halved the generator's rate against dpdk-testpmd.
  std::string virtio_args;
  rte_ether_addr tx_mac{};  // the virtio_user ports' own MACs
  rte_ether_addr rx_mac{};
  FrameSpec frame;     // src/dst MAC, protocol, frame length without FCS
  uint32_t size = 64;  // frame size with FCS, as testpmd counts it; the inner frame's with VXLAN
  FlowRanges ranges;
  uint32_t flows = 1;
  uint32_t new_flows = 0;  // 0: off; else every packet a tuple of its own, this many (new_flows.h)
  std::optional<ExpectedDst> expect_dst;  // received frames must be translated to it
  double rate_mpps = 0;                   // 0: as fast as the tx queue takes packets
  double duration_s = 10;
  double warmup_s = 1;
  double drain_s = 1;
  double wait_link_s = 10;
  uint64_t latency_samples = 4'000'000;
  bool json = false;
  // Where to append the measured window's start and end (window_marker.h); "" marks nothing.
  std::string mark_window;
  bool vxlan_tx = false;  // wrap sent frames in `vxlan`'s outer headers
  bool vxlan_rx = false;  // received frames must be VXLAN to vxlan.udp_port / vxlan.vni
  VxlanSpec vxlan;
  std::optional<ArpAnswer> answer_arp;

  // Frame sizes on the wire, with FCS: `size` plus the outer headers where VXLAN is used.
  uint32_t tx_wire_size() const { return size + (vxlan_tx ? kVxlanOuterLen : 0); }
  uint32_t rx_wire_size() const { return size + (vxlan_rx ? kVxlanOuterLen : 0); }
};

// Parses the application arguments (argv[0] is the program name). Returns nothing when the
// program should exit now, with `exit_code` set (0 after --help, 1 after an error, which has
// been printed to stderr).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace podvs::pktgen
