// The receive loop: drains the rx port into RxStats (one TSC read per burst) and throws away
// anything arriving on the tx port's own rx queue. Owned by one lcore.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "perf/pktgen/rx_stats.h"

namespace podvs::pktgen {

class RxLoop {
 public:
  RxLoop(uint16_t rx_port, uint16_t tx_port, RxStats& stats)
      : rx_port_(rx_port), tx_port_(tx_port), stats_(stats) {}

  // One burst; returns how many frames arrived on the rx port.
  uint16_t poll();

  uint64_t tx_port_received() const { return tx_port_received_; }

 private:
  // The tx port rarely receives anything (a switch's flood or ARP); polling it every
  // 64th time keeps its ring from filling at almost no cost.
  static constexpr uint32_t kTxPortPollInterval = 64;

  uint16_t rx_port_;
  uint16_t tx_port_;
  RxStats& stats_;
  uint32_t polls_ = 0;
  uint64_t tx_port_received_ = 0;
};

}  // namespace podvs::pktgen
