#include "perf/pktgen/port.h"

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include <cstring>

namespace podvs::pktgen {

std::string VirtioPort::open(const PortConfig& config) {
  name_ = config.name;
  socket_ = config.socket;
  char mac[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(mac, sizeof(mac), &config.mac);
  const std::string devargs =
      config.name + ",path=" + config.socket + ",server=" + (config.server ? "1" : "0") +
      ",queues=1,queue_size=" + std::to_string(config.queue_size) + ",mac=" + mac +
      (config.virtio_args.empty() ? "" : "," + config.virtio_args);
  if (int rc = rte_dev_probe(devargs.c_str()); rc != 0) {
    // rte_dev_probe's code says little (often -1); DPDK's log above says what failed.
    return "cannot create virtio_user port on " + config.socket +
           (config.server ? "" : ": is the switch listening on that socket (else try --server)?");
  }
  probed_ = true;
  if (rte_eth_dev_get_port_by_name(config.name.c_str(), &port_id_) != 0)
    return "virtio_user port " + config.name + " was probed but has no ethdev";

  rte_eth_conf conf{};
  int rc = rte_eth_dev_configure(port_id_, 1, 1, &conf);
  if (rc == 0)
    rc = rte_eth_rx_queue_setup(port_id_, 0, config.queue_size, rte_socket_id(), nullptr,
                                config.rx_pool);
  if (rc == 0)
    rc = rte_eth_tx_queue_setup(port_id_, 0, config.queue_size, rte_socket_id(), nullptr);
  if (rc == 0) rc = rte_eth_dev_start(port_id_);
  if (rc != 0) return "cannot start port on " + config.socket + " (" + strerror(-rc) + ")";
  started_ = true;
  return {};
}

void VirtioPort::close() {
  if (started_) rte_eth_dev_stop(port_id_);
  started_ = false;
  if (probed_) {
    // Removing the vdev closes the ethdev and, in server mode, unlinks the socket.
    if (rte_eal_hotplug_remove("vdev", name_.c_str()) != 0) rte_eth_dev_close(port_id_);
  }
  probed_ = false;
}

bool VirtioPort::link_up() const {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port_id_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

std::string wait_for_links(const VirtioPort& tx, const VirtioPort& rx, double seconds,
                           const std::atomic<bool>& stop) {
  const uint64_t deadline =
      rte_get_tsc_cycles() + static_cast<uint64_t>(seconds * rte_get_tsc_hz());
  constexpr unsigned kPollUs = 10'000;
  for (;;) {
    const bool tx_up = tx.link_up();
    const bool rx_up = rx.link_up();
    if (tx_up && rx_up) return {};
    if (stop || rte_get_tsc_cycles() >= deadline) {
      std::string down = !tx_up ? "tx port (" + tx.socket() + ")" : "";
      if (!rx_up)
        down += std::string(down.empty() ? "" : " and ") + "rx port (" + rx.socket() + ")";
      return "link of " + down + " did not come up within " + std::to_string(seconds) +
             " s: is the switch running and attached to that socket?";
    }
    rte_delay_us_sleep(kPollUs);
  }
}

}  // namespace podvs::pktgen
