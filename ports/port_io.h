// How a worker moves packets in and out of one port: a small descriptor that names the port's
// backend and what the backend needs, and the two burst functions every worker and tx buffer
// goes through. They dispatch with a switch on the backend, so adding a backend is an enum value,
// the fields it needs and one case in each function (-Wswitch points at every one).
//
// Concurrency: a PortIo is a value. The control thread builds it when it creates the port and
// hands copies to workers (in rx queue commands and in the RCU-published ForwardingTable); it
// never changes afterwards. What changes at run time for a backend (a vhost-user device coming
// and going) lives behind a pointer in the descriptor and says itself how it is safe.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include <cstdint>

#include "ports/vhost_device.h"

namespace podvs {

enum class PortBackend : uint8_t {
  ethdev,      // a DPDK device: the uplink (a NIC or net_af_packet), net_ring in unit tests
  vhost_user,  // a DPDK pod through rte_vhost (ports/vhost_device.h)
  // podvs's own tap fd (IFF_VNET_HDR, multi-queue) for kernel pods and the host port: the tap
  // backend (issue 14, part 2) fills the two tap cases below. Until it lands no port has this
  // backend; kernel pods and the host port are still net_tap ethdevs.
  tap,
};

struct PortIo {
  PortBackend backend = PortBackend::ethdev;
  uint16_t ethdev = 0;     // ethdev: the DPDK port id
  uint16_t tx_queues = 1;  // workers use queue (worker index % tx_queues)
  // Set when fewer tx queues than workers exist: workers then share a queue under this lock, as
  // OVS does for vhost ports. Null otherwise.
  rte_spinlock_t* tx_lock = nullptr;
  rte_mempool* pool = nullptr;         // where backends that copy on rx take their mbufs
  const VhostDevice* vhost = nullptr;  // vhost_user: the pod's device

  static PortIo of_ethdev(uint16_t dpdk_port, uint16_t tx_queues = 1) {
    PortIo io;
    io.ethdev = dpdk_port;
    io.tx_queues = tx_queues;
    return io;
  }
};

// Up to `n` packets received on rx queue `queue`; the caller owns them.
inline uint16_t port_rx_burst(const PortIo& io, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  switch (io.backend) {
    case PortBackend::ethdev:
      return rte_eth_rx_burst(io.ethdev, queue, pkts, n);
    case PortBackend::vhost_user:
      return vhost_rx_burst(*io.vhost, queue, io.pool, pkts, n);
    case PortBackend::tap:
      break;  // the tap backend's rx hook (part 2); no tap port exists before it
  }
  return 0;
}

// Sends up to `n` packets on tx queue `queue` (the caller holds io.tx_lock if there is one).
// Returns how many were taken; the rest still belong to the caller. Taken packets may already be
// freed when it returns (vhost-user copies them; net_tap writes them out), so read nothing from
// them afterwards.
inline uint16_t port_tx_burst(const PortIo& io, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  switch (io.backend) {
    case PortBackend::ethdev:
      return rte_eth_tx_burst(io.ethdev, queue, pkts, n);
    case PortBackend::vhost_user:
      return vhost_tx_burst(*io.vhost, queue, pkts, n);
    case PortBackend::tap:
      break;  // the tap backend's tx hook (part 2); no tap port exists before it
  }
  return 0;
}

}  // namespace podvs
