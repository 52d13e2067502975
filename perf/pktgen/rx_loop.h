// The receive loop: drains the rx port into RxStats (one TSC read per burst) and throws away
// anything arriving on the tx port's own rx queue, except ARP requests the responder answers
// (--answer-arp). Owned by one lcore.
//
// ARP replies: a request on the rx port is answered on the rx port's tx queue, which nothing else
// uses. A request on the tx port must leave on the tx port's only tx queue, which belongs to the
// transmit loop (maybe on another lcore), so the reply goes through `tx_port_replies`, a
// single-producer single-consumer ring that the transmit loop empties (TxLoop::send_injected).
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <optional>

#include "perf/pktgen/arp.h"
#include "perf/pktgen/rx_stats.h"

namespace podvs::pktgen {

struct ArpCounters {
  uint64_t received = 0;  // ARP frames seen on either port while answering
  uint64_t answered = 0;  // replies sent (or handed to the transmit loop)
};

class RxLoop {
 public:
  RxLoop(uint16_t rx_port, uint16_t tx_port, RxStats& stats,
         std::optional<ArpAnswer> arp = std::nullopt, rte_ring* tx_port_replies = nullptr)
      : rx_port_(rx_port),
        tx_port_(tx_port),
        stats_(stats),
        arp_(arp),
        tx_port_replies_(tx_port_replies) {}

  // One burst; returns how many frames arrived on the rx port.
  uint16_t poll();

  uint64_t tx_port_received() const { return tx_port_received_; }
  const ArpCounters& arp() const { return arp_counters_; }

 private:
  // The tx port rarely receives anything (a switch's flood or ARP); polling it every
  // 64th time keeps its ring from filling at almost no cost.
  static constexpr uint32_t kTxPortPollInterval = 64;

  void poll_tx_port();
  // True when `m` was an ARP frame: it has been answered (and handed on) or freed.
  bool take_arp(rte_mbuf* m, rte_mbuf** replies, uint16_t& n_replies);

  uint16_t rx_port_;
  uint16_t tx_port_;
  RxStats& stats_;
  std::optional<ArpAnswer> arp_;
  rte_ring* tx_port_replies_;
  uint32_t polls_ = 0;
  uint64_t tx_port_received_ = 0;
  ArpCounters arp_counters_;
};

}  // namespace podvs::pktgen
