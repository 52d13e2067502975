// IPv4 → MAC resolution for the uplink's next hops (the remote nodes, or the router in front of
// them), with Linux's neighbour states, simplified: INCOMPLETE → REACHABLE → STALE → FAILED.
//
// Thread safety: none, by design. The table is owned by podvsd's control thread, which is its only
// writer and its only reader: it feeds ARP frames in (on_arp), calls tick() periodically and sends
// the ARP requests tick() asks for. Workers never read this table: when tick() reports that a
// resolved MAC changed, the control thread copies the resolved MACs into the next immutable
// ForwardingTable it publishes (see forwarding_table.h for how workers read that one safely).
//
// Time is passed in by the caller (no clock is read here), so tests are deterministic.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/net_types.h"

namespace podvs {

using NeighbourClock = std::chrono::steady_clock;

enum class NeighbourState : uint8_t { incomplete, reachable, stale, failed };

// Linux's spelling (`ip neigh`), so operators read what they already know.
const char* neighbour_state_name(NeighbourState state);

struct NeighbourTimers {
  // Between ARP requests while resolving (INCOMPLETE) or re-confirming (STALE): Linux's
  // retrans_time.
  std::chrono::milliseconds retrans_time{1000};
  // Requests sent in INCOMPLETE or STALE before the entry becomes FAILED (Linux's mcast_solicit):
  // the entry fails one retrans_time after the last unanswered request.
  unsigned max_probes = 3;
  // A FAILED next hop is asked again this often, so a node that comes back is found.
  std::chrono::milliseconds failed_retry{10000};
  // How long an answer is trusted before the entry turns STALE and is re-confirmed.
  std::chrono::milliseconds reachable_time{30000};
};

// What the caller must do after tick().
struct NeighbourActions {
  std::vector<Ipv4> arp_requests;  // next hops to send a broadcast ARP request to, ascending
  // Some lookup() result changed since the previous tick (learned, changed, dropped or forgotten):
  // republish the forwarding table.
  bool macs_changed = false;
};

struct NeighbourEntry {
  Ipv4 ip = 0;
  std::optional<MacAddr> mac;  // set in REACHABLE and STALE
  const char* state = "";
  // Since the last ARP heard from the next hop, or since want() if none was heard yet.
  std::chrono::milliseconds age{0};
};

class NeighbourTable {
 public:
  // Enough for every node of a large cluster; bounds memory if a bug keeps adding next hops.
  static constexpr size_t kDefaultCapacity = 4096;

  explicit NeighbourTable(NeighbourTimers timers = {}, size_t capacity = kDefaultCapacity);

  // Starts resolving `ip` (INCOMPLETE; the next tick() asks for its first ARP request). Wanting an
  // IP that is already in the table changes nothing: the caller wants each distinct next hop once
  // and forgets it when no remote node uses it any more. Returns nullopt on success, or a sentence
  // saying why the next hop cannot be tracked (table full, address 0.0.0.0).
  [[nodiscard]] std::optional<std::string> want(Ipv4 ip, NeighbourClock::time_point now);

  // Stops tracking `ip`. False if it was not tracked.
  bool forget(Ipv4 ip);

  // An ARP request or reply (gratuitous included) from `ip` at `mac`. Only next hops already
  // wanted are learned: an unsolicited ARP never creates an entry, so nobody on the wire can fill
  // or poison the table. Any state becomes REACHABLE with this MAC. Returns false (and changes
  // nothing) when `ip` is not wanted, so the caller can count ignored ARPs.
  bool on_arp(Ipv4 ip, const MacAddr& mac, NeighbourClock::time_point now);

  // Advances timers: the requests to send now and whether resolved MACs changed since the last
  // tick (including changes made by on_arp and forget). Call it after feeding in received ARPs.
  NeighbourActions tick(NeighbourClock::time_point now);

  // The MAC to send to `ip`: known in REACHABLE and STALE (STALE keeps it while re-confirming).
  std::optional<MacAddr> lookup(Ipv4 ip) const;

  // Every tracked next hop, ascending by IP, for listing.
  std::vector<NeighbourEntry> entries(NeighbourClock::time_point now) const;

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    NeighbourState state = NeighbourState::incomplete;
    MacAddr mac;                         // meaningful in REACHABLE and STALE
    NeighbourClock::time_point heard;    // last ARP from it, or want() time
    NeighbourClock::time_point next_at;  // next request (or STALE/FAILED transition) is due
    unsigned probes = 0;                 // requests sent in the current INCOMPLETE/STALE run
  };

  // One tick for one entry; appends `ip` to `out.arp_requests` when a request is due.
  void advance(Ipv4 ip, Entry& e, NeighbourClock::time_point now, NeighbourActions& out);

  NeighbourTimers timers_;
  size_t capacity_;
  std::map<Ipv4, Entry> entries_;
  bool changed_ = false;
};

}  // namespace podvs
