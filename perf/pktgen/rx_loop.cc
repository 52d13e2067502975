#include "perf/pktgen/rx_loop.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

namespace podvs::pktgen {

uint16_t RxLoop::poll() {
  rte_mbuf* pkts[32];
  if (++polls_ % kTxPortPollInterval == 0) {
    const uint16_t stray = rte_eth_rx_burst(tx_port_, 0, pkts, 32);
    tx_port_received_ += stray;
    if (stray > 0) rte_pktmbuf_free_bulk(pkts, stray);
  }
  const uint16_t n = rte_eth_rx_burst(rx_port_, 0, pkts, 32);
  if (n == 0) return 0;
  const auto now = static_cast<uint32_t>(rte_rdtsc());
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i)
    stats_.account(rte_pktmbuf_mtod(pkts[i], const uint8_t*), pkts[i]->data_len, now);
  rte_pktmbuf_free_bulk(pkts, n);
  return n;
}

}  // namespace podvs::pktgen
