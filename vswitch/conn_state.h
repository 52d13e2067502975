// A worker's connection state: its connection tracking table (masquerade and Services share it,
// so one lookup finds a packet's connection whatever translated it), the source ports it hands
// out for SNAT, its Service session affinity, and where the later fragments of translated
// datagrams go. Owned, read and written by one worker only
// (see conntrack.h); the control thread never touches it while the worker runs.
#pragma once

#include <rte_cycles.h>

#include "vswitch/nat/conntrack.h"
#include "vswitch/nat/fragment_map.h"
#include "vswitch/nat/snat_ports.h"
#include "vswitch/services/affinity_table.h"

namespace podvs {

struct ConnState {
  ConnTrack conntrack;
  SnatPortAllocator ports;
  AffinityTable affinity;
  FragmentMap fragments{kFragmentSlots, rte_get_tsc_hz() * kFragmentLifetimeS};

  // Datagrams in flight at once whose later fragments are still to come: a handful per busy
  // client; a collision only costs one datagram.
  static constexpr uint32_t kFragmentSlots = 4096;
  // Linux gives a datagram's fragments 30 s to arrive; behind a switch they come within
  // microseconds, and a short life keeps a stale slot from translating an unrelated datagram.
  static constexpr uint64_t kFragmentLifetimeS = 2;
};

}  // namespace podvs
