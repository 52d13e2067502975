#include "perf/pktgen/rx_loop.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

namespace podvs::pktgen {

bool RxLoop::take_arp(rte_mbuf* m, rte_mbuf** replies, uint16_t& n_replies) {
  auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
  if (!is_arp(frame, m->data_len)) return false;
  ++arp_counters_.received;
  if (arp_request_to_reply(frame, m->data_len, *arp_))
    replies[n_replies++] = m;
  else
    rte_pktmbuf_free(m);
  return true;
}

void RxLoop::poll_tx_port() {
  rte_mbuf* pkts[32];
  const uint16_t n = rte_eth_rx_burst(tx_port_, 0, pkts, 32);
  tx_port_received_ += n;
  if (!arp_ || tx_port_replies_ == nullptr) {
    if (n > 0) rte_pktmbuf_free_bulk(pkts, n);
    return;
  }
  rte_mbuf* replies[32];
  uint16_t n_replies = 0;
  for (uint16_t i = 0; i < n; ++i)
    if (!take_arp(pkts[i], replies, n_replies)) rte_pktmbuf_free(pkts[i]);
  const unsigned queued = rte_ring_sp_enqueue_burst(
      tx_port_replies_, reinterpret_cast<void**>(replies), n_replies, nullptr);
  arp_counters_.answered += queued;
  if (queued < n_replies) rte_pktmbuf_free_bulk(replies + queued, n_replies - queued);
}

uint16_t RxLoop::poll() {
  if (++polls_ % kTxPortPollInterval == 0) poll_tx_port();
  rte_mbuf* pkts[32];
  const uint16_t n = rte_eth_rx_burst(rx_port_, 0, pkts, 32);
  if (n == 0) return 0;
  const auto now = static_cast<uint32_t>(rte_rdtsc());
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  if (!arp_) {
    for (uint16_t i = 0; i < n; ++i)
      stats_.account(rte_pktmbuf_mtod(pkts[i], const uint8_t*), pkts[i]->data_len, now);
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
  }
  rte_mbuf* replies[32];
  uint16_t n_replies = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (take_arp(pkts[i], replies, n_replies)) continue;
    stats_.account(rte_pktmbuf_mtod(pkts[i], const uint8_t*), pkts[i]->data_len, now);
    rte_pktmbuf_free(pkts[i]);
  }
  if (n_replies > 0) {
    const uint16_t sent = rte_eth_tx_burst(rx_port_, 0, replies, n_replies);
    arp_counters_.answered += sent;
    if (sent < n_replies) rte_pktmbuf_free_bulk(replies + sent, n_replies - sent);
  }
  return n;
}

}  // namespace podvs::pktgen
