// The figures of one run, printed as human text or as one JSON object (for perf/bench).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "perf/pktgen/headroom.h"
#include "perf/pktgen/latency.h"
#include "perf/pktgen/options.h"
#include "perf/pktgen/rx_loop.h"
#include "perf/pktgen/rx_stats.h"
#include "perf/pktgen/tx_loop.h"

namespace podvs::pktgen {

struct RunResult {
  std::string lcore_mode;  // "single" (one loop alternates), "split", "split-shared-cpu"
  TxCounters tx;
  RxCounters rx;
  ArpCounters arp;
  LatencySummary latency;
  uint64_t latency_every = 1;  // one latency sample per this many measured packets
  uint64_t tx_port_received = 0;
  double tsc_hz = 1;
  double measured_s = 0;  // from the first measured burst to the end of sending
  bool stopped_early = false;
  // Each loop's headroom over the measured window: "loop" with one lcore, "tx" and "rx" with two.
  std::vector<std::pair<std::string, HeadroomCounters>> headroom;
};

void print_report(const Options& options, const RunResult& result, std::ostream& out);

}  // namespace podvs::pktgen
