// A DPDK pod's queue pairs: which counts the API takes, and which queues podvsd polls and sends
// to given the rings the pod enabled (ports/vhost_device.h).
#include <gtest/gtest.h>

#include "control/api/control_plane.h"
#include "control/daemon/port_manager.h"
#include "ports/vhost_device.h"

namespace podvs {
namespace {

// Bits of virtqueues: queue pair q's receive ring (ours to send to) and transmit ring (ours to
// poll).
constexpr uint64_t rx_ring(uint16_t q) { return uint64_t{1} << (2 * q + kVhostGuestRxRing); }
constexpr uint64_t tx_ring(uint16_t q) { return uint64_t{1} << (2 * q + kVhostGuestTxRing); }
constexpr uint64_t pair(uint16_t q) { return rx_ring(q) | tx_ring(q); }

TEST(PodQueues, TheApiTakesOneToSixteenAndMoreThanOneOnlyForVhostUser) {
  EXPECT_EQ(validate_pod_queues(PortKind::vhost_user, 1), "");
  EXPECT_EQ(validate_pod_queues(PortKind::vhost_user, 16), "");
  EXPECT_EQ(validate_pod_queues(PortKind::tap, 1), "");
  EXPECT_EQ(validate_pod_queues(PortKind::vhost_user, 0),
            "queues 0 is out of range: a pod has 1 to 16 queue pairs");
  EXPECT_EQ(validate_pod_queues(PortKind::vhost_user, 17),
            "queues 17 is out of range: a pod has 1 to 16 queue pairs");
  EXPECT_EQ(validate_pod_queues(PortKind::tap, 2),
            "queues 2: only a vhost-user (DPDK) pod asks for queue pairs; a kernel pod's tap gets "
            "one queue per worker from podvsd");
}

TEST(PodQueues, RxQueuesPolledAreThoseWhoseTransmitRingIsEnabled) {
  const uint64_t rings = pair(0) | tx_ring(1) | rx_ring(2);
  EXPECT_TRUE(vhost_rx_queue_enabled(rings, 0));
  EXPECT_TRUE(vhost_rx_queue_enabled(rings, 1));
  EXPECT_FALSE(vhost_rx_queue_enabled(rings, 2));  // only its receive ring
  EXPECT_FALSE(vhost_rx_queue_enabled(rings, 3));
  EXPECT_FALSE(vhost_rx_queue_enabled(0, 0));
}

TEST(PodQueues, SendsSpreadOverTheEnabledPrefixUpToTheQueuesAskedFor) {
  EXPECT_EQ(vhost_tx_queues_enabled(pair(0) | pair(1), 2), 2);
  // The guest enabled one of the two pairs it asked for.
  EXPECT_EQ(vhost_tx_queues_enabled(pair(0), 2), 1);
  // A guest enabling more than it asked for: the pod's queues bound it.
  EXPECT_EQ(vhost_tx_queues_enabled(pair(0) | pair(1) | pair(2), 2), 2);
  // A gap ends the prefix: workers use queue (worker % count), which must be enabled.
  EXPECT_EQ(vhost_tx_queues_enabled(pair(0) | pair(2), 4), 1);
  // Nothing connected (or queue 0 disabled): one queue, where sends move nothing.
  EXPECT_EQ(vhost_tx_queues_enabled(0, 4), 1);
  EXPECT_EQ(vhost_tx_queues_enabled(pair(1), 4), 1);
  uint64_t all = 0;
  for (uint16_t q = 0; q < kMaxPodQueues; ++q) all |= pair(q);
  EXPECT_EQ(vhost_tx_queues_enabled(all, kMaxPodQueues), kMaxPodQueues);
}

TEST(PodQueues, AKernelPodsTapHasAQueuePerWorkerAsFarAsTheLargeBuffersGo) {
  EXPECT_EQ(PortManager::tap_queues(1, 250), 1);
  EXPECT_EQ(PortManager::tap_queues(2, 250), 2);
  // 250 pods and the host port, a spare each per queue, in half of 1023 buffers: 2 queues.
  EXPECT_EQ(PortManager::tap_queues(16, 250), 2);
  EXPECT_EQ(PortManager::tap_queues(16, 50), 10);
  EXPECT_EQ(PortManager::tap_queues(32, 1), kMaxTapQueues);
  // tap_queues in the configuration caps it; 0 does not.
  EXPECT_EQ(PortManager::tap_queues(2, 250, 1), 1);
  EXPECT_EQ(PortManager::tap_queues(8, 10, 4), 4);
  EXPECT_EQ(PortManager::tap_queues(8, 10, 0), 8);
  // More pods than the pool could give a spare each: still one queue.
  EXPECT_EQ(PortManager::tap_queues(4, 100000), 1);
}

}  // namespace
}  // namespace podvs
