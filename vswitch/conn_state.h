// Connection state: the connection tracking table (masquerade and Services share it, so one
// lookup finds a packet's connection whatever translated it), Service session affinity, and where
// the later fragments of translated datagrams go. SharedConnState is one for all workers, since a
// connection's packets, a client's connections and a datagram's fragments may each arrive on
// several workers (each part says how it is shared: conntrack.h, affinity_table.h,
// fragment_map.h); ConnState is a worker's view of it plus the SNAT ports only that worker hands
// out. The control thread makes both before the workers start and frees them after they stopped.
#pragma once

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "vswitch/nat/conntrack.h"
#include "vswitch/nat/fragment_map.h"
#include "vswitch/nat/snat_ports.h"
#include "vswitch/services/affinity_table.h"
#include "vswitch/tracked_flow_notices.h"

namespace podvs {

struct SharedConnState {
  // `qsbr`: the workers' RCU (null only with one worker); `entries_per_worker` connections each.
  SharedConnState(uint32_t entries_per_worker, uint32_t workers, uint64_t tsc_hz,
                  rte_rcu_qsbr* qsbr)
      : conntrack(entries_per_worker, workers, tsc_hz, qsbr),
        affinity(entries_per_worker * workers),
        fragments(kFragmentSlots, tsc_hz * kFragmentLifetimeS),
        notices(workers) {}

  ConnTable conntrack;
  AffinityTable affinity;
  FragmentMap fragments;
  TrackedFlowNotices notices;  // keeps the workers' flow caches coherent with `conntrack`

  // Datagrams in flight at once whose later fragments are still to come: a handful per busy
  // client; a collision only costs one datagram.
  static constexpr uint32_t kFragmentSlots = 4096;
  // Linux gives a datagram's fragments 30 s to arrive; behind a switch they come within
  // microseconds, and a short life keeps a stale slot from translating an unrelated datagram.
  static constexpr uint64_t kFragmentLifetimeS = 2;
};

struct ConnState {
  ConnState(SharedConnState& shared, uint32_t worker, const SnatPortRange& ports, uint64_t seed)
      : conntrack(shared.conntrack, worker),
        ports(ports, seed),
        affinity(shared.affinity),
        fragments(shared.fragments),
        notices(shared.notices),
        worker(worker) {}

  ConnTrack conntrack;
  SnatPortAllocator ports;  // this worker's share: no two workers hand out the same port
  AffinityTable& affinity;
  FragmentMap& fragments;
  TrackedFlowNotices& notices;
  uint32_t worker;
};

}  // namespace podvs
