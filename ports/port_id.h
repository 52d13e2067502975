// podvs's own port ids. Every per-port table of the data path (forwarding table, tx buffers,
// counters, the flight recorder) and of the controller is indexed by a PortId, from 0 to the
// configured port capacity (Config::max_ports). A PortId is not a DPDK port id: only the ports
// that really are DPDK devices (the uplink, test rings) have an ethdev behind them, and Debian's
// DPDK allows 32 of those per process while a node holds hundreds of pods.
#pragma once

#include <cstdint>

namespace podvs {

using PortId = uint16_t;

inline constexpr PortId kNoPort = UINT16_MAX;
// Default port capacity: librte_vhost's own limit of devices per process (RTE_MAX_VHOST_DEVICE
// is 1024 in Debian's DPDK 22.11), so no pod kind runs out before another.
inline constexpr uint16_t kDefaultPortCapacity = 1024;
// Largest accepted capacity: ids must stay below kNoPort, and per-worker counters cost about
// 400 bytes per port.
inline constexpr uint16_t kMaxPortCapacity = 16384;

}  // namespace podvs
