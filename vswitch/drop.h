// The one way a worker drops packets: every packet it does not forward is counted under a reason
// on a port (README, "Drop reasons", says which port for each reason), remembered by the flight
// recorder, and freed. Called only by the owning worker (its counters are its own).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "base/drop_reason.h"
#include "vswitch/worker_counters.h"

namespace podvs {

// Counts `n` packets under `reason` on `port` (one add per call, not per packet) and records
// them. Alone only where a refused packet is answered instead of freed (an ICMP error made in
// its place); everything else calls drop() or drop_burst().
inline void count_drops(rte_mbuf* const* pkts, uint16_t n, PortId port, DropReason reason,
                        WorkerCounters& counters) {
  counters.ports[port].drops[static_cast<size_t>(reason)].add(n);
  for (uint16_t i = 0; i < n; ++i) counters.recent_drops.record(pkts[i], port, reason);
}

inline void drop(rte_mbuf* m, PortId port, DropReason reason, WorkerCounters& counters) {
  count_drops(&m, 1, port, reason, counters);
  rte_pktmbuf_free(m);
}

// The packets a transmit burst left over, for one reason, freed in bulk.
inline void drop_burst(rte_mbuf** pkts, uint16_t n, PortId port, DropReason reason,
                       WorkerCounters& counters) {
  count_drops(pkts, n, port, reason, counters);
  rte_pktmbuf_free_bulk(pkts, n);
}

}  // namespace podvs
