// Address allocation from the node's pod CIDR.
//
// Thread safety: none. Only the control thread allocates and releases addresses; nothing on the
// data path reads this structure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/net_types.h"

namespace podvs {

class Ipam {
 public:
  // `reserved`: addresses never handed out (the node's host-port address). Reserved addresses
  // outside the usable range are ignored. Throws std::runtime_error for a prefix longer than /30
  // or shorter than /8.
  Ipam(Ipv4Prefix cidr, std::vector<Ipv4> reserved);

  // nullopt when exhausted. Never the network, broadcast, a reserved or an in-use address.
  // Round robin: the search starts after the last address handed out, so a just-freed address is
  // not reused at once (a late packet for the old pod must not reach the new one).
  std::optional<Ipv4> allocate();
  // Marks an address in use (restoring state). False if outside the CIDR, the network or
  // broadcast address, reserved or already in use.
  bool reserve(Ipv4 ip);
  // False if the address was not in use.
  bool release(Ipv4 ip);
  bool in_use(Ipv4 ip) const;

  size_t used() const { return used_; }
  // Usable addresses (network and broadcast excluded) minus the reserved ones.
  size_t capacity() const { return capacity_; }

  // The last address handed out, persisted so that a restart keeps the round robin going.
  Ipv4 cursor() const { return cidr_.network + static_cast<Ipv4>(cursor_); }
  // Throws std::runtime_error if `ip` is outside the CIDR.
  void set_cursor(Ipv4 ip);

  const Ipv4Prefix& cidr() const { return cidr_; }

 private:
  static constexpr size_t kNotFound = ~size_t{0};

  bool usable(Ipv4 ip) const;
  size_t first_free_from(size_t index) const;

  Ipv4Prefix cidr_;
  // One bit per address of the CIDR (index = offset from the network address). `taken_` has the
  // network, broadcast, reserved and in-use addresses set, so allocation looks for a zero bit only;
  // `reserved_` tells reserved from in-use.
  std::vector<uint64_t> taken_;
  std::vector<uint64_t> reserved_;
  size_t cursor_ = 0;  // offset of the last address handed out; 0 (the network) before the first
  size_t used_ = 0;
  size_t capacity_ = 0;
};

}  // namespace podvs
