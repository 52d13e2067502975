// Source ports for SNAT: masquerade (pod traffic leaving the cluster, to the node IP), Services
// (hairpin and NodePort connections, to the host IP) and a client port that clashes with another
// Service connection's (moved, the client's address kept). Each worker has its own allocator over
// its own share of the port range, so two workers never hand out the same port and no state is
// shared.
//
// There is no record of ports in use: a port is free for a connection exactly when no conntrack
// entry has the reply tuple the translation would produce, so the allocator asks the worker's
// ConnTrack, and a port comes back the moment its entry is removed or expires. A bitmap would
// be a second copy of that fact to keep in step on every removal, and a coarser one: the same
// port can serve connections to different destinations at once.
#pragma once

#include <cstdint>
#include <optional>

#include "vswitch/conn_tuple.h"
#include "vswitch/nat/conntrack.h"

namespace podvs {

// Ports lo..hi inclusive, host byte order.
struct SnatPortRange {
  uint16_t lo = 32768;
  uint16_t hi = 60999;
};

// Worker `worker`'s share of `all` when `workers` split it evenly (the first ones get one port
// more when it does not divide). Throws std::invalid_argument when worker >= workers or the range
// has fewer ports than there are workers.
SnatPortRange worker_port_range(const SnatPortRange& all, uint32_t worker, uint32_t workers);

class SnatPortAllocator {
 public:
  // Throws std::invalid_argument when range.lo > range.hi, range.lo is 0 or max_attempts is 0.
  // `seed` starts the pseudo-random sequence (anything; tests fix it).
  explicit SnatPortAllocator(const SnatPortRange& range, uint64_t seed,
                             uint32_t max_attempts = kDefaultMaxAttempts);
  // Linux gives up after about as many tries (nf_nat_l4proto_unique_tuple).
  static constexpr uint32_t kDefaultMaxAttempts = 128;

  // `with` plus the SNAT of `orig` to snat_ip and a port of the range whose reply tuple no live
  // entry of `conntrack` holds, or nullopt after max_attempts ports were all taken (the caller
  // drops the packet and counts it). `with` may already translate the destination (a Service
  // reached through a NodePort or by its own backend). For ICMP echo the port is the identifier.
  // The port is taken only once the caller has created the entry.
  std::optional<NatSpec> pick(ConnTrack& conntrack, const ConnTuple& orig, rte_be32_t snat_ip,
                              uint64_t now, const NatSpec& with = {});

 private:
  uint64_t next_random();

  SnatPortRange range_;
  uint32_t max_attempts_;
  uint64_t random_state_;
};

}  // namespace podvs
