#include "vswitch/flow_cache.h"

#include <bit>
#include <stdexcept>

namespace podvs {

FlowCache::FlowCache(uint32_t entries) : entries_(entries), mask_(entries - 1) {
  if (entries < 2 || !std::has_single_bit(entries))
    throw std::invalid_argument("flow cache size must be a power of two of at least 2, got " +
                                std::to_string(entries));
}

void FlowCache::insert(const FlowKey& key, uint32_t hash, const ForwardAction& action) {
  const uint32_t set = hash & mask_ & ~1u;
  // Prefer a stale way; otherwise evict the way chosen by a hash bit, so two hot flows that share
  // a set are not evicted in lockstep.
  uint32_t way = (hash >> 31) & 1u;
  if (entries_[set].generation != generation_)
    way = 0;
  else if (entries_[set + 1].generation != generation_)
    way = 1;
  entries_[set + way] = Entry{key, action, generation_};
}

}  // namespace podvs
