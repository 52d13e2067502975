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
  // send other than super-frames. Throws with the reason on failure.
  VhostDevice(std::string socket_path, bool server, rte_rcu_qsbr* workers, uint32_t mtu);
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

 private:
  friend struct VhostCallbacks;

  alignas(RTE_CACHE_LINE_SIZE) std::atomic<int> vid_{-1};  // workers read it on every burst
  // Read with vid_ (same cache line), written by new_device.
  std::atomic<PortOffloads> guest_offloads_{PortOffloads{}};
  std::atomic<bool> pod_sends_offloads_{false};
  std::string path_;
  rte_rcu_qsbr* workers_;
  uint32_t max_frame_len_;
};

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
