// Chooses the worker for a new rx queue: the least loaded by measured busy cycles (the work its
// queues actually cost, like OVS pmd-rxq-assign=cycles), ties broken by fewer queues, then by
// lower index so the choice is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace podvs {

struct WorkerLoad {
  uint64_t rxq_cycles = 0;  // cycles its current rx queues consumed recently
  uint32_t rx_queues = 0;
};

// Index into `loads`; `loads` must not be empty.
size_t pick_worker(const std::vector<WorkerLoad>& loads);

}  // namespace podvs
