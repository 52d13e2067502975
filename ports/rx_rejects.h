// Frames a port's rx refused, with why: a tap's or a vhost-user pod's frame whose virtio-net
// header does not fit it. The backend only sorts them out; the worker counts and drops them
// (drop.h) on the port they came from.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "base/drop_reason.h"

namespace podvs {

// The most packets one rx burst of podvs's own backends moves (a tap's, a vhost-user pod's).
inline constexpr uint16_t kRxBurstMax = 32;

struct RxRejects {
  uint16_t count = 0;
  std::array<rte_mbuf*, kRxBurstMax> pkts;
  std::array<DropReason, kRxBurstMax> reasons;

  void add(rte_mbuf* m, DropReason reason) {
    pkts[count] = m;
    reasons[count++] = reason;
  }
};

}  // namespace podvs
