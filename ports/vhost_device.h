// One DPDK pod's vhost-user port, driven through librte_vhost directly (as OVS's netdev-dpdk
// does) rather than through a net_vhost ethdev: no ethdev, so no RTE_MAX_ETHPORTS limit, and the
// features offered to the pod are chosen here (vhost_device.cc says which and why).
//
// Concurrency. The device's vid (rte_vhost's id of the connected pod, -1 while none is) is
// written only by rte_vhost's callbacks: new_device and destroy_device, on rte_vhost's event
// thread, or on the control thread inside rte_vhost_driver_unregister. Workers read it once per
// burst (acquire) and skip the port while it is -1, so a pod that disconnects or restarts never
// stalls a worker. destroy_device stores -1 and then waits for a grace period of the workers'
// RCU (each worker reports a quiescent state after every poll-loop iteration): when it returns,
// no worker is still inside a burst that read the old vid, which is what rte_vhost requires
// before it frees the device. The offloads the pod negotiated are written by new_device, which
// also waits a grace period after writing them and before storing the vid: no worker then still
// holds what it read of the previous connection's (a super-frame it let through whole for a pod
// that took TSO is never flushed to a successor that did not). The VhostDevice itself is owned by
// the control thread (PortManager), which frees it only after workers stopped polling and sending
// to the port.
//
// Queue pairs. A pod may use several queue pairs; which of its rings it has enabled is told by
// rte_vhost's vring_state_changed callback (on rte_vhost's thread) and kept in one atomic mask,
// which only the control thread reads: it polls an enabled queue and sends to enabled queues by
// publishing them to the workers (rx queue commands, the forwarding table), never the other way
// round, so the workers read nothing new per burst. A ring's state needs no more care than that:
// rte_vhost checks it on every enqueue and dequeue, and a burst on a disabled ring moves nothing.
#pragma once

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_vhost.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "offload/output_offload.h"
#include "ports/rx_rejects.h"

namespace podvs {

// Virtqueues of queue pair q: the pod's receive ring is 2q (where we enqueue), its transmit ring
// 2q + 1 (where we dequeue). virtio's numbering, which rte_vhost uses and does not export.
inline constexpr uint16_t kVhostGuestRxRing = 0;
inline constexpr uint16_t kVhostGuestTxRing = 1;

class VhostDevice {
 public:
  // Registers `socket_path` with rte_vhost and starts it. Client mode (server false): rte_vhost
  // connects to the pod's socket and reconnects whenever the pod restarts. Server mode: the
  // socket is created here (a stale one is removed first) and the pod connects. `workers` is the
  // workers' RCU, waited on when the pod goes. `mtu`: the pod's, which bounds the frames it may
  // send other than super-frames. `offloads`: whether checksum offload and TSO are offered at all
  // (off for the uplink: vhost_device.cc says why). Throws with the reason on failure.
  VhostDevice(std::string socket_path, bool server, rte_rcu_qsbr* workers, uint32_t mtu,
              bool offloads);
  // Unregisters the socket: a connected pod is destroyed first (destroy_device, on this thread).
  ~VhostDevice();
  VhostDevice(const VhostDevice&) = delete;
  VhostDevice& operator=(const VhostDevice&) = delete;

  int vid() const { return vid_.load(std::memory_order_acquire); }
  // What the pod takes unfinished (GUEST_CSUM, GUEST_TSO4): the output side of offloads.
  PortOffloads guest_offloads() const { return guest_offloads_.load(std::memory_order_relaxed); }
  // Whether the pod may send partial checksums or super-frames (CSUM, HOST_TSO4/6): rx looks at
  // its packets' offload flags only then.
  bool pod_sends_offloads() const { return pod_sends_offloads_.load(std::memory_order_relaxed); }
  bool connected() const { return vid() >= 0; }
  const std::string& socket_path() const { return path_; }
  // The longest frame the pod's MTU allows, Ethernet header included.
  uint32_t max_frame_len() const { return max_frame_len_; }

  // The pod's rings as it enabled them, bit r for virtqueue r (queue pair r / 2; see
  // kVhostGuestRxRing); 0 while no pod is connected. Control thread.
  uint64_t enabled_rings() const { return enabled_rings_.load(std::memory_order_acquire); }

 private:
  friend struct VhostCallbacks;

  alignas(RTE_CACHE_LINE_SIZE) std::atomic<int> vid_{-1};  // workers read it on every burst
  // Read with vid_ (same cache line), written by new_device.
  std::atomic<PortOffloads> guest_offloads_{PortOffloads{}};
  std::atomic<bool> pod_sends_offloads_{false};
  std::string path_;
  rte_rcu_qsbr* workers_;
  uint32_t max_frame_len_;
  // Rings beyond 64 (queue pair 32 on) are never used: kMaxPodQueues is far below.
  std::atomic<uint64_t> enabled_rings_{0};
};

// Queue pair q of a pod is ours to poll when its transmit ring is enabled in `rings`
// (VhostDevice::enabled_rings).
inline bool vhost_rx_queue_enabled(uint64_t rings, uint16_t q) {
  return ((rings >> (2 * q + kVhostGuestTxRing)) & 1) != 0;
}

// How many queue pairs, from the first, we may send to: those whose receive ring is enabled, up
// to the first that is not and at most `limit` (the pairs the pod asked for). virtio enables
// queue pairs from the first on (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET), so workers spread their
// sends over a prefix with `worker % count`. At least 1: queue pair 0 is the one a pod always has
// (rte_vhost reports no device before it is ready), and sends while none is connected move nothing.
inline uint16_t vhost_tx_queues_enabled(uint64_t rings, uint16_t limit) {
  uint16_t n = 0;
  while (n < limit && n < 32 && ((rings >> (2 * n + kVhostGuestRxRing)) & 1) != 0) ++n;
  return n == 0 ? 1 : n;
}

static_assert(std::atomic<PortOffloads>::is_always_lock_free);

// Of `n` packets dequeued from a pod that may send offloads, keeps in `pkts` those whose offload
// marks pass (offload/vhost_rx_offload.h: the tap's rules) and returns how many; the rest go to
// `rejects`.
uint16_t vhost_take_offloads(rte_mbuf** pkts, uint16_t n, uint32_t max_frame_len,
                             RxRejects& rejects);

// Up to `n` (<= kRxBurstMax) packets the pod sent on queue pair `queue`, copied into mbufs from
// `pool`; frames with a header podvs refuses go to `rejects`. A pod that negotiated no offload
// costs nothing more than the dequeue: its packets are looked at only per burst.
inline uint16_t vhost_rx_burst(const VhostDevice& dev, uint16_t queue, rte_mempool* pool,
                               rte_mbuf** pkts, uint16_t n, RxRejects& rejects) {
  const int vid = dev.vid();
  if (vid < 0) return 0;
  const uint16_t got = rte_vhost_dequeue_burst(vid, 2 * queue + kVhostGuestTxRing, pool, pkts, n);
  if (got == 0 || !dev.pod_sends_offloads()) return got;
  return vhost_take_offloads(pkts, got, dev.max_frame_len(), rejects);
}

// Copies up to `n` packets into the pod's receive ring of queue pair `queue` and frees the ones
// copied; returns how many. The rest (ring full, or no pod connected) stay the caller's.
inline uint16_t vhost_tx_burst(const VhostDevice& dev, uint16_t queue, rte_mbuf** pkts,
                               uint16_t n) {
  const int vid = dev.vid();
  if (vid < 0) return 0;
  const uint16_t sent = rte_vhost_enqueue_burst(vid, 2 * queue + kVhostGuestRxRing, pkts, n);
  rte_pktmbuf_free_bulk(pkts, sent);
  return sent;
}

}  // namespace podvs
