#include "ports/port_ids.h"

#include <stdexcept>
#include <string>

namespace podvs {

PortIds::PortIds(uint16_t capacity) : used_(capacity, false) {
  if (capacity == 0 || capacity > kMaxPortCapacity)
    throw std::invalid_argument("port capacity " + std::to_string(capacity) +
                                " is out of range: 1 to " + std::to_string(kMaxPortCapacity));
}

std::optional<PortId> PortIds::allocate() {
  for (PortId id = lowest_free_; id < used_.size(); ++id) {
    if (used_[id]) continue;
    used_[id] = true;
    ++in_use_;
    lowest_free_ = static_cast<PortId>(id + 1);
    return id;
  }
  lowest_free_ = static_cast<PortId>(used_.size());
  return std::nullopt;
}

bool PortIds::release(PortId id) {
  if (id >= used_.size() || !used_[id]) return false;
  used_[id] = false;
  --in_use_;
  if (id < lowest_free_) lowest_free_ = id;
  return true;
}

}  // namespace podvs
