#include "overlay/neighbour_table.h"

namespace podvs {
namespace {

bool has_mac(NeighbourState state) {
  return state == NeighbourState::reachable || state == NeighbourState::stale;
}

// 0.0.0.0, multicast (224/4) and the limited broadcast cannot own a MAC: nobody answers for them.
bool is_unicast(Ipv4 ip) { return ip != 0 && (ip >> 28) != 0xe && ip != 0xffffffff; }

}  // namespace

const char* neighbour_state_name(NeighbourState state) {
  switch (state) {
    case NeighbourState::incomplete:
      return "INCOMPLETE";
    case NeighbourState::reachable:
      return "REACHABLE";
    case NeighbourState::stale:
      return "STALE";
    case NeighbourState::failed:
      return "FAILED";
  }
  return "UNKNOWN";
}

NeighbourTable::NeighbourTable(NeighbourTimers timers, size_t capacity)
    : timers_(timers), capacity_(capacity) {}

std::optional<std::string> NeighbourTable::want(Ipv4 ip, NeighbourClock::time_point now) {
  if (!is_unicast(ip))
    return "cannot resolve next hop " + ipv4_str(ip) + ": it is not a unicast IPv4 address";
  if (entries_.contains(ip)) return std::nullopt;
  if (entries_.size() >= capacity_)
    return "cannot resolve next hop " + ipv4_str(ip) + ": the neighbour table already tracks " +
           std::to_string(capacity_) +
           " next hops (its capacity); forget the next hops no remote node uses";
  entries_.emplace(ip, Entry{NeighbourState::incomplete, MacAddr{}, now, now, 0});
  return std::nullopt;
}

bool NeighbourTable::forget(Ipv4 ip) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return false;
  if (has_mac(it->second.state)) changed_ = true;
  entries_.erase(it);
  return true;
}

bool NeighbourTable::on_arp(Ipv4 ip, const MacAddr& mac, NeighbourClock::time_point now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  if (!has_mac(e.state) || e.mac != mac) changed_ = true;
  e.state = NeighbourState::reachable;
  e.mac = mac;
  e.heard = now;
  e.probes = 0;
  return true;
}

void NeighbourTable::advance(Ipv4 ip, Entry& e, NeighbourClock::time_point now,
                             NeighbourActions& out) {
  if (e.state == NeighbourState::reachable) {
    if (now - e.heard < timers_.reachable_time) return;
    // Keep forwarding with the old MAC while asking again: a peer that is merely quiet must not
    // lose traffic.
    e.state = NeighbourState::stale;
    e.probes = 0;
    e.next_at = now;
  }
  if (now < e.next_at) return;
  if (e.state == NeighbourState::failed) {
    out.arp_requests.push_back(ip);
    e.next_at = now + timers_.failed_retry;
    return;
  }
  if (e.probes < timers_.max_probes) {  // INCOMPLETE or STALE: ask (again)
    out.arp_requests.push_back(ip);
    ++e.probes;
    e.next_at = now + timers_.retrans_time;
    return;
  }
  if (e.state == NeighbourState::stale) changed_ = true;  // its MAC is no longer trusted
  e.state = NeighbourState::failed;
  e.next_at = now + timers_.failed_retry;
}

NeighbourActions NeighbourTable::tick(NeighbourClock::time_point now) {
  NeighbourActions out;
  for (auto& [ip, entry] : entries_) advance(ip, entry, now, out);
  out.macs_changed = changed_;
  changed_ = false;
  return out;
}

std::optional<MacAddr> NeighbourTable::lookup(Ipv4 ip) const {
  auto it = entries_.find(ip);
  if (it == entries_.end() || !has_mac(it->second.state)) return std::nullopt;
  return it->second.mac;
}

std::vector<NeighbourEntry> NeighbourTable::entries(NeighbourClock::time_point now) const {
  std::vector<NeighbourEntry> out;
  out.reserve(entries_.size());
  for (const auto& [ip, e] : entries_) {
    out.push_back(
        NeighbourEntry{ip, has_mac(e.state) ? std::optional<MacAddr>(e.mac) : std::nullopt,
                       neighbour_state_name(e.state),
                       std::chrono::duration_cast<std::chrono::milliseconds>(now - e.heard)});
  }
  return out;
}

}  // namespace podvs
