// Hands out PortIds below the port capacity, lowest free first, so the tables indexed by them
// stay dense. Control thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ports/port_id.h"

namespace podvs {

class PortIds {
 public:
  explicit PortIds(uint16_t capacity);

  uint16_t capacity() const { return static_cast<uint16_t>(used_.size()); }
  uint16_t in_use() const { return in_use_; }
  // The lowest free id, now taken; nullopt when all `capacity` ids are in use.
  std::optional<PortId> allocate();
  // Frees `id`; false (and nothing changes) when it is out of range or not in use.
  bool release(PortId id);

 private:
  std::vector<bool> used_;
  uint16_t in_use_ = 0;
  PortId lowest_free_ = 0;  // no id below it is free
};

}  // namespace podvs
