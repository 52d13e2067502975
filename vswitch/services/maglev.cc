#include "vswitch/services/maglev.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>

namespace podvs {
namespace {

// Two independent hashes of a key: one picks where a backend's preference list starts, the other
// its stride. The splitmix64 finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom
// number generators", 2014) spreads every key bit over the whole word, so keys that differ in one
// port bit still get unrelated lists. The seeds are arbitrary but fixed: every node must agree.
constexpr uint64_t kOffsetSeed = 0x9e3779b97f4a7c15;
constexpr uint64_t kSkipSeed = 0xc2b2ae3d27d4eb4f;

uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27;
  x *= 0x94d049bb133111eb;
  x ^= x >> 31;
  return x;
}

constexpr uint16_t kEmptySlot = UINT16_MAX;

std::string hex(uint64_t v) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(v));
  return text;
}

void validate(std::span<const uint64_t> keys, uint32_t table_size) {
  if (keys.size() > kMaglevMaxBackends)
    throw std::invalid_argument("a Maglev table holds at most " +
                                std::to_string(kMaglevMaxBackends) + " backends, got " +
                                std::to_string(keys.size()));
  if (table_size > kMaglevMaxTableSize)
    throw std::invalid_argument("Maglev table size " + std::to_string(table_size) +
                                " exceeds the maximum of " + std::to_string(kMaglevMaxTableSize));
  if (!is_prime(table_size))
    throw std::invalid_argument("Maglev table size " + std::to_string(table_size) +
                                " is not a prime number");
  if (table_size <= keys.size())
    throw std::invalid_argument("Maglev table size " + std::to_string(table_size) +
                                " must be larger than the number of backends (" +
                                std::to_string(keys.size()) + ")");
}

}  // namespace

std::vector<uint16_t> build_maglev_table(std::span<const uint64_t> keys, uint32_t table_size) {
  validate(keys, table_size);
  if (keys.empty()) return {};

  // The paper fills the table round robin over the backends, each taking the next free slot of
  // its preference list. Who goes first decides contested slots, so the rounds go in ascending
  // key order, not in the caller's order: that is what makes the table node independent.
  std::vector<uint16_t> order(keys.size());
  std::iota(order.begin(), order.end(), uint16_t{0});
  std::sort(order.begin(), order.end(), [&](uint16_t a, uint16_t b) { return keys[a] < keys[b]; });
  for (size_t i = 1; i < order.size(); ++i)
    if (keys[order[i]] == keys[order[i - 1]])
      throw std::invalid_argument("Maglev backend key " + hex(keys[order[i]]) +
                                  " appears more than once");

  // Backend i prefers slots offset_i, offset_i + skip_i, offset_i + 2 skip_i, ... (mod M). With M
  // prime and 1 <= skip < M the list is a permutation of all M slots, so every backend always
  // finds a free slot while one is left.
  const uint32_t m = table_size;
  std::vector<uint32_t> next(order.size());  // each backend's next preferred slot
  std::vector<uint32_t> skip(order.size());
  for (size_t r = 0; r < order.size(); ++r) {
    const uint64_t key = keys[order[r]];
    next[r] = static_cast<uint32_t>(mix64(key ^ kOffsetSeed) % m);
    skip[r] = static_cast<uint32_t>(mix64(key ^ kSkipSeed) % (m - 1)) + 1;
  }

  // slot + skip < 2 M fits easily: one subtraction replaces the modulo.
  const auto advance = [m](uint32_t slot, uint32_t step) {
    return slot + step >= m ? slot + step - m : slot + step;
  };
  std::vector<uint16_t> table(m, kEmptySlot);
  uint32_t filled = 0;
  for (;;) {
    for (size_t r = 0; r < order.size(); ++r) {
      uint32_t slot = next[r];
      while (table[slot] != kEmptySlot) slot = advance(slot, skip[r]);
      table[slot] = order[r];
      next[r] = advance(slot, skip[r]);
      if (++filled == m) return table;
    }
  }
}

}  // namespace podvs
