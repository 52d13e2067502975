// One virtio_user port on a vhost-user socket: pktgen's side of a "DPDK pod" interface.
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace podvs::pktgen {

struct PortConfig {
  std::string name;  // vdev name, must start with "net_virtio_user"
  std::string socket;
  bool server = false;
  rte_ether_addr mac{};
  uint16_t queue_size = 1024;
  rte_mempool* rx_pool = nullptr;
  std::string virtio_args;  // more virtio_user devargs ("key=value,..."), appended as given
};

class VirtioPort {
 public:
  VirtioPort() = default;
  VirtioPort(const VirtioPort&) = delete;
  VirtioPort& operator=(const VirtioPort&) = delete;
  ~VirtioPort() { close(); }

  // Creates the vdev with one rx and one tx queue and starts it; returns an error sentence or "".
  std::string open(const PortConfig& config);
  // Stops and removes the port (a server-mode port also removes its socket file).
  void close();

  uint16_t id() const { return port_id_; }
  bool link_up() const;
  const std::string& socket() const { return socket_; }

 private:
  std::string name_;
  std::string socket_;
  uint16_t port_id_ = 0;
  bool probed_ = false;
  bool started_ = false;
};

// Polls both ports' link status until both are up. Returns "" or a sentence naming the port that
// stayed down. `stop` ends the wait early (a signal arrived).
std::string wait_for_links(const VirtioPort& tx, const VirtioPort& rx, double seconds,
                           const std::atomic<bool>& stop);

}  // namespace podvs::pktgen
