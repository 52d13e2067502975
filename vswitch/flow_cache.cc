#include "vswitch/flow_cache.h"

#include <bit>
#include <stdexcept>

namespace podvs {

FlowCache::FlowCache(uint32_t entries) {
  if (entries < 2 || !std::has_single_bit(entries))
    throw std::invalid_argument("flow cache size must be a power of two of at least 2, got " +
                                std::to_string(entries));
  sets_.resize(entries / 2);
  set_mask_ = entries / 2 - 1;
}

}  // namespace podvs
