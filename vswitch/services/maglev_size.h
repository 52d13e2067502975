// Limits of a Maglev table's size, apart from maglev.h so that configuration checks need no DPDK.
#pragma once

#include <cstdint>

namespace podvs {

// The paper's M = 65537 balances to within about 1% up to ~650 backends (M/N >= 100 slots
// each); twice that keeps that balance to ~1300 backends for 256 KB per table and a build of a
// few milliseconds. Kubernetes Services beyond that many endpoints are rare enough to accept
// the coarser balance a smaller M/N gives.
inline constexpr uint32_t kMaglevMaxTableSize = 131071;  // 2^17 - 1, a Mersenne prime
// Slots hold uint16_t indexes; UINT16_MAX is kept free so that building can mark empty slots.
inline constexpr uint32_t kMaglevMaxBackends = UINT16_MAX;

constexpr bool is_prime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

}  // namespace podvs
