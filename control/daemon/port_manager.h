// Creates and removes ports at runtime and gives each a PortId of podvs's own (ports/port_ids.h):
// DPDK devices (rte_dev_probe / rte_dev_remove) for the uplink, podvs's own taps for kernel pods
// and the host, vhost-user ports for DPDK pods. Control thread only.
#pragma once

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "control/api/control_plane.h"
#include "control/daemon/config.h"
#include "ports/port_id.h"
#include "ports/port_ids.h"
#include "ports/port_io.h"
#include "ports/tap_port.h"
#include "ports/vhost_device.h"

namespace podvs {

struct PortHandle {
  PortId port_id = kNoPort;  // podvs's id, what every table and counter is indexed by
  // The port's name in logs, `podvsctl port list` and the metrics' `port` label: tap_p3 (a kernel
  // pod's tap), vhost_p4 (a DPDK pod's vhost-user device), host_podvs0 (the host port's tap), or
  // the DPDK device name of an ethdev (the uplink).
  std::string dev_name;
  PortKind kind = PortKind::tap;
  PortIo io;  // without tx_lock: the controller hands out locks when it publishes a table
  uint16_t rx_queues = 1;  // vhost-user: the queue pairs the pod may enable
};

class PortManager {
 public:
  // `workers`: the workers' RCU, which a vhost-user pod's disconnect waits on.
  PortManager(rte_mempool* pool, uint16_t port_capacity, rte_rcu_qsbr* workers)
      : pool_(pool), ids_(port_capacity), workers_(workers) {}
  ~PortManager() {
    taps_.clear();  // their spare buffers go back before the pool goes
    rte_mempool_free(tap_large_pool_);
  }
  PortManager(const PortManager&) = delete;
  PortManager& operator=(const PortManager&) = delete;

  // A tap port (ports/tap_port.h) with `queues` queues whose kernel interface `ifname` appears in
  // the network namespace the calling thread is in (enter the pod's namespace first with
  // ScopedNetns).
  PortHandle create_tap(const std::string& dev_name, const std::string& ifname,
                        uint16_t queues = 1);
  // The queues of a kernel pod's tap: one per worker, as far as the taps' large buffer pool
  // allows for `max_pods` pods (each polled queue keeps one spare), at most `limit` (0: none)
  // and kMaxTapQueues.
  static uint16_t tap_queues(size_t workers, uint32_t max_pods, uint32_t limit = 0);
  // A vhost-user port on `socket_path` (rte_vhost, no ethdev) with up to `queues` queue pairs,
  // for a pod whose MTU is `mtu`; client mode reconnects when the pod restarts.
  PortHandle create_vhost(const std::string& dev_name, const std::string& socket_path, bool server,
                          uint16_t queues, uint32_t mtu);
  // The node's uplink, as `config` names it: a vhost-user port in client mode on
  // uplink_vhost_socket (no offloads, up to `queues` queue pairs, followed as the peer enables
  // them, as a DPDK pod's); else a DPDK device by uplink_device (a NIC's PCI address) or
  // net_af_packet on the kernel interface uplink_interface, with `queues` rx/tx queue pairs (one
  // per worker: rx spread by the NIC's RSS or the kernel's fanout, tx without locks).
  PortHandle create_uplink(const Config& config, uint16_t queues);
  void destroy(const PortHandle& port);
  static bool link_up(const PortHandle& port);
  uint16_t capacity() const { return ids_.capacity(); }
  uint16_t in_use() const { return ids_.in_use(); }
  // mbufs a port of this kind with `queues` rx queues takes from the pool for as long as it
  // exists (a pre-filled rx ring, a tap queue's spare).
  static unsigned mbufs_per_port(PortKind kind, uint16_t queues = 1);

 private:
  PortHandle probe_and_start(const std::string& devargs, const std::string& dev_name, PortKind kind,
                             uint16_t tx_queues, uint16_t rx_queues = 1);

  // A port of `kind` on a new VhostDevice (vhost_device.h).
  PortHandle vhost_port(const std::string& dev_name, PortKind kind, const std::string& socket_path,
                        bool server, uint16_t queues, uint32_t mtu, bool offloads);
  PortId take_id(const std::string& dev_name);

  rte_mempool* pool_;
  PortIds ids_;
  rte_rcu_qsbr* workers_;
  std::map<PortId, std::unique_ptr<VhostDevice>> vhost_;  // the devices behind vhost-user ports
  std::map<PortId, std::unique_ptr<TapPort>> taps_;       // the taps behind tap ports
  rte_mempool* tap_large_pool_ = nullptr;  // the rest of tap super-frames; made with the first tap
};

}  // namespace podvs
