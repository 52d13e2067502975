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

#include "offload/output_offload.h"
#include "ports/tap_port.h"
#include "ports/vhost_device.h"

namespace podvs {

enum class PortBackend : uint8_t {
  ethdev,      // a DPDK device: the uplink (a NIC or net_af_packet), net_ring in unit tests
  vhost_user,  // a DPDK pod through rte_vhost (ports/vhost_device.h)
  // podvs's own tap (ports/tap_port.h: IFF_VNET_HDR, TSO and checksum offloads, readv/writev)
  // for kernel pods and the host port.
  tap,
};

// Whether workers that outnumber a port's tx queues must take its lock to share one. A tap queue
// is an fd whose every writev() is one whole frame, serialised by the kernel, and tap_tx_burst
// keeps no state of its own: holding a spin lock across those syscalls would only make the other
// workers spin. An ethdev's or a vhost ring's tx queue is not safe to share.
inline bool tx_queue_needs_lock_to_share(PortBackend backend) {
  return backend != PortBackend::tap;
}

struct PortIo {
  PortBackend backend = PortBackend::ethdev;
  uint16_t ethdev = 0;     // ethdev: the DPDK port id
  uint16_t tx_queues = 1;  // workers use queue (worker index % tx_queues)
  // Set when fewer tx queues than workers exist: workers then share a queue under this lock, as
  // OVS does for vhost ports. Null otherwise.
  rte_spinlock_t* tx_lock = nullptr;
  rte_mempool* pool = nullptr;         // where backends that copy on rx take their mbufs
  const VhostDevice* vhost = nullptr;  // vhost_user: the pod's device
  TapPort* tap = nullptr;              // tap: its queues (owned by PortManager)
  // What the port finishes itself (tap: everything, ethdev: nothing). A vhost-user pod's depend
  // on what it negotiated, so they are its device's: port_offloads() says which applies.
  PortOffloads offloads{};

  static PortIo of_ethdev(uint16_t dpdk_port, uint16_t tx_queues = 1) {
    PortIo io;
    io.ethdev = dpdk_port;
    io.tx_queues = tx_queues;
    return io;
  }
};

// What `io`'s port takes unfinished. Read only for packets that carry offload work.
inline PortOffloads port_offloads(const PortIo& io) {
  return io.backend == PortBackend::vhost_user ? io.vhost->guest_offloads() : io.offloads;
}

// Up to `n` (<= kRxBurstMax) packets received on rx queue `queue`; the caller owns them, and the
// frames a tap or a vhost-user pod sent with a virtio-net header podvs refuses, which it counts and
// drops.
inline uint16_t port_rx_burst(const PortIo& io, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                              RxRejects& rejects) {
  switch (io.backend) {
    case PortBackend::ethdev:
      return rte_eth_rx_burst(io.ethdev, queue, pkts, n);
    case PortBackend::vhost_user:
      return vhost_rx_burst(*io.vhost, queue, io.pool, pkts, n, rejects);
    case PortBackend::tap:
      return tap_rx_burst(io.tap->rxq(queue), pkts, n, rejects);
  }
  return 0;
}

// Sends up to `n` packets on tx queue `queue` (the caller holds io.tx_lock if there is one).
// Returns how many were taken; the rest still belong to the caller. Taken packets may already be
// freed when it returns (vhost-user copies them; a tap writes them out), so read nothing from
// them afterwards.
inline uint16_t port_tx_burst(const PortIo& io, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  switch (io.backend) {
    case PortBackend::ethdev:
      return rte_eth_tx_burst(io.ethdev, queue, pkts, n);
    case PortBackend::vhost_user:
      return vhost_tx_burst(*io.vhost, queue, pkts, n);
    case PortBackend::tap:
      return tap_tx_burst(io.tap->tx_fd(queue), pkts, n);
  }
  return 0;
}

}  // namespace podvs
