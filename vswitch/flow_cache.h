// Exact-match flow cache in front of the route lookup (like OVS's EMC): key = ingress port and
// IPv4 5-tuple, value = the forwarding decision. Two-way set associative.
//
// Concurrency: none. Each worker owns its cache; only that worker reads or writes it. A new
// forwarding table invalidates every entry at once by bumping the generation, so a cached
// decision never outlives the table it came from.
#pragma once

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <vector>

#include "vswitch/forwarding_table.h"
#include "vswitch/packet_parse.h"

namespace podvs {

class FlowCache {
 public:
  explicit FlowCache(uint32_t entries);  // a power of two

  // Invalidates all entries when `table_version` differs from the one the cache was filled from.
  void sync(uint64_t table_version) {
    if (table_version != table_version_) {
      table_version_ = table_version;
      ++generation_;
    }
  }

  static uint32_t hash(const FlowKey& key) {
    uint64_t words[2];
    __builtin_memcpy(words, &key, sizeof(words));
    return rte_hash_crc_8byte(words[1], rte_hash_crc_8byte(words[0], 0));
  }

  const ForwardAction* lookup(const FlowKey& key, uint32_t hash) const {
    const Set& set = sets_[hash & set_mask_];
    for (const Entry& e : set.ways)
      if (e.generation == generation_ && e.key == key) return &e.action;
    return nullptr;
  }

  void prefetch(uint32_t hash) const { rte_prefetch0(&sets_[hash & set_mask_]); }

  void insert(const FlowKey& key, uint32_t hash, const ForwardAction& action) {
    Set& set = sets_[hash & set_mask_];
    // The way already holding the key (a decision replaced: lookup must not find the old one
    // first); else a stale way; otherwise the way chosen by a hash bit, so two hot flows that
    // share a set are not evicted in lockstep.
    uint32_t way = (hash >> 31) & 1u;
    if (set.ways[0].generation == generation_ && set.ways[0].key == key)
      way = 0;
    else if (set.ways[1].generation == generation_ && set.ways[1].key == key)
      way = 1;
    else if (set.ways[0].generation != generation_)
      way = 0;
    else if (set.ways[1].generation != generation_)
      way = 1;
    set.ways[way] = Entry{key, action, generation_};
  }

  // Replaces the decision cached for `key`, if there is one.
  void replace(const FlowKey& key, uint32_t hash, const ForwardAction& action) {
    for (Entry& e : sets_[hash & set_mask_].ways)
      if (e.generation == generation_ && e.key == key) e.action = action;
  }

  // Invalidates every entry.
  void forget_all() { ++generation_; }

  uint32_t capacity() const { return static_cast<uint32_t>(sets_.size() * 2); }

 private:
  struct alignas(32) Entry {
    FlowKey key;
    ForwardAction action;
    uint32_t generation = 0;  // 0 never matches: generations start at 1
  };
  static_assert(sizeof(Entry) == 32);
  // Both ways of a set on one cache line: a lookup or a prefetch touches exactly one line.
  struct alignas(RTE_CACHE_LINE_SIZE) Set {
    Entry ways[2];
  };
  static_assert(sizeof(Set) == RTE_CACHE_LINE_SIZE);

  std::vector<Set> sets_;
  uint32_t set_mask_;
  uint32_t generation_ = 1;
  uint64_t table_version_ = 0;
};

}  // namespace podvs
