// A worker's connection state: its connection tracking table (masquerade and Services share it,
// so one lookup finds a packet's connection whatever translated it), the source ports it hands
// out for SNAT, and its Service session affinity. Owned, read and written by one worker only
// (see conntrack.h); the control thread never touches it while the worker runs.
#pragma once

#include "vswitch/affinity_table.h"
#include "vswitch/conntrack.h"
#include "vswitch/snat_ports.h"

namespace podvs {

struct ConnState {
  ConnTrack conntrack;
  SnatPortAllocator ports;
  AffinityTable affinity;
};

}  // namespace podvs
