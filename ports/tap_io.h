// Moving packets through one queue of a tap (tap_device.h): rx with readv() into mbufs, the
// virtio-net header turned into offload flags; tx with writev(), the header built from them.
//
// Batching: a tap fd is a character device with read_iter/write_iter only, so there is no
// recvmmsg/sendmmsg on it (those are socket calls): every frame costs one readv() or one
// writev(). What makes kernel pods fast is that a frame is a 64 KiB TCP super-frame, so one
// syscall moves ~45 MSS-sized segments' worth.
//
// Buffers are taken only while packets are in flight: no ring is pre-filled. A frame is read into
// a standard mbuf (headers and small frames) followed by a large one from its own pool (the rest
// of a super-frame, up to 64 KiB); the large one is chained on only when the frame needed it, and
// otherwise kept for the next read (one spare per queue).
//
// Concurrency: a TapRxQueue is used by the one worker polling it; its spare buffers and counter
// are its own. tx needs only the queue's fd: the kernel serialises writes to it.
#pragma once

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>

#include "ports/rx_rejects.h"

namespace podvs {

inline constexpr uint16_t kTapBurst = kRxBurstMax;

// The large buffers' data room: a tap hands over at most an Ethernet header and a 64 KiB IPv4
// packet; with the standard mbuf in front of it, 63 KiB are plenty and the size fits
// rte_pktmbuf_pool_create's 16-bit data room with the usual headroom.
inline constexpr uint16_t kTapLargeDataRoom = 63 * 1024 + RTE_PKTMBUF_HEADROOM;

struct alignas(RTE_CACHE_LINE_SIZE) TapRxQueue {
  int fd = -1;
  rte_mempool* pool = nullptr;        // standard mbufs: every frame's first buffer
  rte_mempool* large_pool = nullptr;  // the rest of a frame longer than a standard buffer
  rte_mbuf* spare = nullptr;          // buffers a read offered and the frame did not use
  rte_mbuf* spare_large = nullptr;
  uint64_t reads = 0;  // readv() calls, empty ones included (the syscall count)
};

// Up to `n` (<= kTapBurst) frames, stopping at the first empty read or when no mbuf is left.
// Frames with a malformed virtio-net header go to `rejects`, not `pkts`.
uint16_t tap_rx_burst(TapRxQueue& q, rte_mbuf** pkts, uint16_t n, RxRejects& rejects);

// Writes up to `n` packets to the tap queue `fd`, each with the virtio-net header its offload
// flags call for, and frees them. Stops at the first write the kernel refuses (its queue full,
// or the interface down); the rest still belong to the caller.
uint16_t tap_tx_burst(int fd, rte_mbuf** pkts, uint16_t n);

// Returns the queue's spare buffers to their pools (when the port goes away).
void tap_queue_release(TapRxQueue& q);

// The pool of large buffers for all taps: `n` of them (each ~64 KiB of hugepage memory).
rte_mempool* create_tap_large_pool(const char* name, unsigned n, int socket);

}  // namespace podvs
