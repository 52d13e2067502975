// A tap port as the workers use it: the device's queue fds and, per queue, the rx state of the
// worker polling it (tap_io.h).
//
// Concurrency: the control thread creates a TapPort when it adds the port and deletes it only
// after the workers stopped polling its queues and a forwarding table without the port has been
// published past an RCU grace period (the same rule as every port). In between nothing in it
// changes but each TapRxQueue, written only by the one worker polling that queue (own cache line).
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ports/tap_device.h"
#include "ports/tap_io.h"

namespace podvs {

class TapPort {
 public:
  // Opens the tap `ifname` in the calling thread's network namespace with `queues` queues;
  // frames are read into mbufs of `pool`, the rest of super-frames into `large_pool`.
  TapPort(const std::string& ifname, uint16_t queues, rte_mempool* pool, rte_mempool* large_pool)
      : device_(ifname, queues), rxqs_(queues) {
    for (uint16_t q = 0; q < queues; ++q) {
      rxqs_[q].fd = device_.fds()[q];
      rxqs_[q].pool = pool;
      rxqs_[q].large_pool = large_pool;
    }
  }
  ~TapPort() {
    for (TapRxQueue& q : rxqs_) tap_queue_release(q);
  }
  TapPort(const TapPort&) = delete;
  TapPort& operator=(const TapPort&) = delete;

  uint16_t queues() const { return static_cast<uint16_t>(rxqs_.size()); }
  TapRxQueue& rxq(uint16_t queue) { return rxqs_[queue]; }
  int tx_fd(uint16_t queue) const { return device_.fds()[queue]; }
  const std::string& ifname() const { return device_.ifname(); }
  // readv() calls of all queues so far, empty polls included (read by the control thread for
  // statistics: a torn read of a 64-bit counter does not happen on x86-64).
  uint64_t reads() const {
    uint64_t n = 0;
    for (const TapRxQueue& q : rxqs_) n += q.reads;
    return n;
  }

 private:
  TapDevice device_;
  std::vector<TapRxQueue> rxqs_;
};

}  // namespace podvs
