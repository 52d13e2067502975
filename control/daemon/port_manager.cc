#include "control/daemon/port_manager.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "base/log.h"

namespace podvs {
namespace {

// Ring sizes: deep enough to absorb a worker's scheduling hiccup at line rate.
constexpr uint16_t kRxDescriptors = 512;
constexpr uint16_t kTxDescriptors = 512;
// Large buffers for the taps' super-frames, shared by all taps: only frames in flight hold one
// (rx stops, leaving frames in the kernel, when they run out). ~64 KiB each.
constexpr unsigned kTapLargeBuffers = 1023;

std::string dpdk_error(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

void remove_vdev(const std::string& dev_name) {
  const int rc = rte_eal_hotplug_remove("vdev", dev_name.c_str());
  if (rc < 0 && rc != -ENOENT)
    PODVS_LOG(warning, "removing device %s: %s", dev_name.c_str(), dpdk_error(rc).c_str());
}

}  // namespace

PortId PortManager::take_id(const std::string& dev_name) {
  const std::optional<PortId> id = ids_.allocate();
  if (!id)
    throw std::runtime_error("no port left for " + dev_name + ": all " +
                             std::to_string(ids_.capacity()) +
                             " ports of the capacity are in use (raise max_ports)");
  return *id;
}

PortHandle PortManager::probe_and_start(const std::string& devargs, const std::string& dev_name,
                                        PortKind kind, uint16_t tx_queues, uint16_t rx_queues) {
  if (rte_eth_dev_count_avail() >= RTE_MAX_ETHPORTS)
    throw std::runtime_error("no DPDK port left for " + dev_name + ": this DPDK build allows " +
                             std::to_string(RTE_MAX_ETHPORTS) + " ethdevs per process");
  int rc = rte_dev_probe(devargs.c_str());
  if (rc < 0) throw std::runtime_error("cannot create port " + devargs + ": " + dpdk_error(rc));
  uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(dev_name.c_str(), &port_id) != 0) {
    remove_vdev(dev_name);
    throw std::runtime_error("port " + dev_name + " was probed but has no ethdev");
  }
  PortHandle handle{kNoPort, dev_name, kind, PortIo::of_ethdev(port_id, tx_queues), rx_queues};
  try {
    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    if (rx_queues > 1) {
      rte_eth_dev_info info;
      if (rte_eth_dev_info_get(port_id, &info) == 0 && info.flow_type_rss_offloads != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
      }
    }
    if ((rc = rte_eth_dev_configure(port_id, rx_queues, tx_queues, &conf)) < 0)
      throw std::runtime_error("configure: " + dpdk_error(rc));
    const int socket = rte_eth_dev_socket_id(port_id);
    const unsigned numa = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
    const uint16_t rx_descriptors = kRxDescriptors;
    for (uint16_t q = 0; q < rx_queues; ++q)
      if ((rc = rte_eth_rx_queue_setup(port_id, q, rx_descriptors, numa, nullptr, pool_)) < 0)
        throw std::runtime_error("rx queue setup: " + dpdk_error(rc));
    for (uint16_t q = 0; q < tx_queues; ++q)
      if ((rc = rte_eth_tx_queue_setup(port_id, q, kTxDescriptors, numa, nullptr)) < 0)
        throw std::runtime_error("tx queue setup: " + dpdk_error(rc));
    if ((rc = rte_eth_dev_start(port_id)) < 0) throw std::runtime_error("start: " + dpdk_error(rc));
    handle.port_id = take_id(dev_name);
  } catch (const std::exception& e) {
    rte_eth_dev_stop(port_id);
    rte_eth_dev_close(port_id);
    remove_vdev(dev_name);
    throw std::runtime_error("port " + dev_name + ": " + e.what());
  }
  PODVS_LOG(info, "port %s (id %u, ethdev %u) up with %u tx queues", dev_name.c_str(),
            handle.port_id, port_id, tx_queues);
  return handle;
}

uint16_t PortManager::tap_queues(size_t workers, uint32_t max_pods, uint32_t limit) {
  // Every polled tap queue keeps one large buffer as its spare (tap_io.h): the taps of max_pods
  // pods and the host port may hold at most half the large pool that way, the other half stays
  // for frames in flight. 2 with the defaults (250 pods, 1023 buffers).
  const size_t fit = kTapLargeBuffers / 2 / (size_t{max_pods} + 1);
  size_t queues = std::min(fit, workers);
  if (limit != 0) queues = std::min<size_t>(queues, limit);
  return static_cast<uint16_t>(std::clamp<size_t>(queues, 1, kMaxTapQueues));
}

PortHandle PortManager::create_tap(const std::string& dev_name, const std::string& ifname,
                                   uint16_t queues) {
  if (tap_large_pool_ == nullptr) {
    tap_large_pool_ = create_tap_large_pool("podvs_tap_large", kTapLargeBuffers, SOCKET_ID_ANY);
    if (tap_large_pool_ == nullptr)
      throw std::runtime_error("cannot create the taps' large buffer pool: " +
                               dpdk_error(rte_errno));
  }
  const PortId id = take_id(dev_name);
  std::unique_ptr<TapPort> tap;
  try {
    // IFF_MULTI_QUEUE: each TUNSETIFF on the name opens another queue. The kernel spreads the
    // pod's flows over them (a flow follows the queue podvs last wrote it on, else its hash);
    // each is polled by a worker, and worker w writes on queue w % queues. No lock either way
    // (the kernel serialises writes; tx_queue_needs_lock_to_share in port_io.h).
    tap = std::make_unique<TapPort>(ifname, queues, pool_, tap_large_pool_);
  } catch (...) {
    ids_.release(id);
    throw;
  }
  PortHandle handle{id, dev_name, PortKind::tap, {}, queues};
  handle.io.backend = PortBackend::tap;
  handle.io.tx_queues = queues;
  handle.io.pool = pool_;
  handle.io.tap = tap.get();
  handle.io.offloads = {.tso = true, .l4_csum = true};
  taps_.emplace(id, std::move(tap));
  PODVS_LOG(info, "port %s (id %u) on tap %s (%u queues)", dev_name.c_str(), id, ifname.c_str(),
            queues);
  return handle;
}

PortHandle PortManager::create_vhost(const std::string& dev_name, const std::string& socket_path,
                                     bool server, uint16_t queues, uint32_t mtu) {
  return vhost_port(dev_name, PortKind::vhost_user, socket_path, server, queues, mtu, true);
}

PortHandle PortManager::vhost_port(const std::string& dev_name, PortKind kind,
                                   const std::string& socket_path, bool server, uint16_t queues,
                                   uint32_t mtu, bool offloads) {
  const PortId id = take_id(dev_name);
  std::unique_ptr<VhostDevice> device;
  try {
    device = std::make_unique<VhostDevice>(socket_path, server, workers_, mtu, offloads);
  } catch (...) {
    ids_.release(id);
    throw;
  }
  // `queues` queue pairs the peer may enable. Sends start on the first alone (workers beyond the
  // first share it under a lock, see PortIo::tx_lock); the controller widens tx_queues to the
  // pairs the peer has enabled, and polls each enabled rx queue, as rte_vhost reports them.
  PortHandle handle{id, dev_name, kind, {}, queues};
  handle.io.backend = PortBackend::vhost_user;
  handle.io.tx_queues = 1;
  handle.io.pool = pool_;
  handle.io.vhost = device.get();
  vhost_.emplace(id, std::move(device));
  PODVS_LOG(info, "port %s (id %u) on vhost-user %s (%s, %u queue pairs)", dev_name.c_str(), id,
            socket_path.c_str(), server ? "server" : "client", queues);
  return handle;
}

PortHandle PortManager::create_uplink(const Config& config, uint16_t queues) {
  if (!config.uplink_vhost_socket.empty())
    return vhost_port("vhost_uplink", PortKind::uplink, config.uplink_vhost_socket, false, queues,
                      config.uplink_mtu, false);
  const std::string& devargs = config.uplink_device;
  const std::string& ifname = config.uplink_interface;
  if (!devargs.empty()) {
    // A NIC: its ethdev name is what the bus reports for these devargs (e.g. the PCI address).
    const std::string dev_name = devargs.substr(0, devargs.find(','));
    return probe_and_start(devargs, dev_name, PortKind::uplink, queues, queues);
  }
  // net_af_packet's qpairs: one PACKET_FANOUT socket per queue, the kernel spreads flows.
  const std::string dev_name = "net_af_packet_" + ifname;
  return probe_and_start(dev_name + ",iface=" + ifname + ",qpairs=" + std::to_string(queues),
                         dev_name, PortKind::uplink, queues, queues);
}

void PortManager::destroy(const PortHandle& port) {
  switch (port.io.backend) {
    case PortBackend::ethdev: {
      int rc = rte_eth_dev_stop(port.io.ethdev);
      if (rc < 0)
        PODVS_LOG(warning, "stopping port %s: %s", port.dev_name.c_str(), dpdk_error(rc).c_str());
      rc = rte_eth_dev_close(port.io.ethdev);
      if (rc < 0)
        PODVS_LOG(warning, "closing port %s: %s", port.dev_name.c_str(), dpdk_error(rc).c_str());
      remove_vdev(port.dev_name);
      break;
    }
    case PortBackend::vhost_user:
      vhost_.erase(port.port_id);  // unregisters; a connected pod is destroyed first
      break;
    case PortBackend::tap:
      taps_.erase(port.port_id);  // closing its fds removes the interface
      break;
  }
  ids_.release(port.port_id);
  PODVS_LOG(info, "port %s (id %u) removed", port.dev_name.c_str(), port.port_id);
}

unsigned PortManager::mbufs_per_port(PortKind kind, uint16_t queues) {
  switch (kind) {
    case PortKind::vhost_user:
      return 0;
    case PortKind::uplink:
      return kRxDescriptors;
    default:
      // podvs's taps take buffers only while frames are in flight (tap_io.h): one spare a queue.
      return queues;
  }
}

bool PortManager::link_up(const PortHandle& port) {
  switch (port.io.backend) {
    case PortBackend::ethdev: {
      rte_eth_link link;
      if (rte_eth_link_get_nowait(port.io.ethdev, &link) != 0) return false;
      return link.link_status == RTE_ETH_LINK_UP;
    }
    case PortBackend::vhost_user:
      return port.io.vhost->connected();
    case PortBackend::tap:
      return true;  // the fds are open for as long as the port exists
  }
  return false;
}

}  // namespace podvs
