#include "ports/tap_io.h"

#include <sys/uio.h>

#include <cerrno>

#include "offload/virtio_net_hdr.h"

namespace podvs {
namespace {

// Segments a packet written to a tap may have: rte_gso's segments have 2 or 3, a tap frame 2.
constexpr uint16_t kMaxTxSegments = 32;

rte_mbuf* take(rte_mbuf*& spare, rte_mempool* pool) {
  rte_mbuf* m = spare;
  spare = nullptr;
  return m != nullptr ? m : rte_pktmbuf_alloc(pool);
}

}  // namespace

uint16_t tap_rx_burst(TapRxQueue& q, rte_mbuf** pkts, uint16_t n, RxRejects& rejects) {
  uint16_t got = 0;
  while (got < n) {
    rte_mbuf* m = take(q.spare, q.pool);
    rte_mbuf* large = take(q.spare_large, q.large_pool);
    if (m == nullptr || large == nullptr) {
      q.spare = m;
      q.spare_large = large;
      break;
    }
    virtio_net_hdr hdr;
    const uint16_t room = rte_pktmbuf_tailroom(m);
    iovec iov[3] = {
        {&hdr, sizeof(hdr)},
        {rte_pktmbuf_mtod(m, void*), room},
        {rte_pktmbuf_mtod(large, void*), rte_pktmbuf_tailroom(large)},
    };
    const ssize_t r = readv(q.fd, iov, 3);
    ++q.reads;
    if (r <= 0) {
      // EAGAIN: nothing queued. Other errors (the interface going away) end the burst the same
      // way; the port's removal follows.
      q.spare = m;
      q.spare_large = large;
      break;
    }
    if (static_cast<size_t>(r) < sizeof(hdr)) {
      q.spare_large = large;
      m->data_len = 0;
      rejects.add(m, DropReason::virtio_hdr_truncated);
      continue;
    }
    const auto len = static_cast<uint32_t>(r - sizeof(hdr));
    if (len <= room) {
      m->data_len = static_cast<uint16_t>(len);
      q.spare_large = large;
    } else {
      m->data_len = room;
      large->data_len = static_cast<uint16_t>(len - room);
      m->next = large;
      m->nb_segs = 2;
    }
    m->pkt_len = len;
    const VnetHdrVerdict v = vnet_hdr_to_mbuf(hdr, m);
    if (!v.ok) {
      rejects.add(m, v.reason);
      continue;
    }
    pkts[got++] = m;
  }
  return got;
}

uint16_t tap_tx_burst(int fd, rte_mbuf** pkts, uint16_t n) {
  uint16_t sent = 0;
  for (; sent < n; ++sent) {
    rte_mbuf* m = pkts[sent];
    if (m->nb_segs >= kMaxTxSegments) {
      // Never made by podvs; refuse it rather than write a frame cut short.
      break;
    }
    const virtio_net_hdr hdr = mbuf_to_vnet_hdr(m);
    iovec iov[kMaxTxSegments + 1];
    iov[0] = {const_cast<virtio_net_hdr*>(&hdr), sizeof(hdr)};
    int iovcnt = 1;
    for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next)
      iov[iovcnt++] = {rte_pktmbuf_mtod(seg, void*), seg->data_len};
    const ssize_t w = writev(fd, iov, iovcnt);
    if (w < 0) break;
    rte_pktmbuf_free(m);
  }
  return sent;
}

void tap_queue_release(TapRxQueue& q) {
  rte_pktmbuf_free(q.spare);
  rte_pktmbuf_free(q.spare_large);
  q.spare = q.spare_large = nullptr;
}

rte_mempool* create_tap_large_pool(const char* name, unsigned n, int socket) {
  // No per-lcore cache: the pool is small and shared by all workers' taps.
  return rte_pktmbuf_pool_create(name, n, 0, 0, kTapLargeDataRoom, socket);
}

}  // namespace podvs
