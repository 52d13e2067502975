#include "vswitch/nat/snat_ports.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace podvs {

SnatPortRange worker_port_range(const SnatPortRange& all, uint32_t worker, uint32_t workers) {
  const uint32_t ports = all.hi >= all.lo ? all.hi - all.lo + 1u : 0u;
  if (worker >= workers || ports < workers)
    throw std::invalid_argument("cannot give worker " + std::to_string(worker) + " of " +
                                std::to_string(workers) + " a share of the " +
                                std::to_string(ports) + " SNAT ports " + std::to_string(all.lo) +
                                "-" + std::to_string(all.hi));
  const uint32_t share = ports / workers;
  const uint32_t extra = ports % workers;  // the first `extra` workers get one more
  const uint32_t lo = all.lo + worker * share + std::min(worker, extra);
  const uint32_t count = share + (worker < extra ? 1u : 0u);
  return {static_cast<uint16_t>(lo), static_cast<uint16_t>(lo + count - 1)};
}

SnatPortAllocator::SnatPortAllocator(const SnatPortRange& range, uint64_t seed,
                                     uint32_t max_attempts)
    : range_(range), max_attempts_(max_attempts), random_state_(seed) {
  if (range.lo == 0 || range.lo > range.hi)
    throw std::invalid_argument("SNAT port range " + std::to_string(range.lo) + "-" +
                                std::to_string(range.hi) +
                                " must be lo-hi with 1 <= lo <= hi <= 65535");
  if (max_attempts == 0) throw std::invalid_argument("SNAT port allocation needs an attempt");
}

// splitmix64: fast, and good enough to spread ports; the ports need not be unpredictable.
uint64_t SnatPortAllocator::next_random() {
  uint64_t z = (random_state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Tries the ports start, start + step, start + 2 step, ... (mod the range size) from a random
// start with a random step coprime with the range size: every port once within `ports` tries, as
// sequential probing would, yet successive picks do not pile up behind one run of taken ports.
std::optional<NatSpec> SnatPortAllocator::pick(ConnTrack& conntrack, const ConnTuple& orig,
                                               rte_be32_t snat_ip, uint64_t now,
                                               const NatSpec& with) {
  const uint32_t ports = range_.hi - range_.lo + 1u;
  uint32_t offset = static_cast<uint32_t>(next_random() % ports);
  uint32_t step = 1;
  if (ports > 1) {
    do step = 1 + static_cast<uint32_t>(next_random() % (ports - 1));
    while (std::gcd(step, ports) != 1);
  }
  const uint32_t attempts = std::min(max_attempts_, ports);
  for (uint32_t i = 0; i < attempts; ++i, offset = (offset + step) % ports) {
    NatSpec nat = with;
    nat.snat = true;
    nat.src_addr = snat_ip;
    nat.src_port = rte_cpu_to_be_16(static_cast<uint16_t>(range_.lo + offset));
    if (conntrack.lookup(nat_reply_tuple(orig, nat), now).entry == nullptr) return nat;
  }
  return std::nullopt;
}

}  // namespace podvs
