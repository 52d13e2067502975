// Which worker polls which rx queue. New queues go to the least loaded worker by measured busy
// cycles (the work its queues actually cost, like OVS pmd-rxq-assign=cycles); when queues go
// away the control thread re-plans all of them, heaviest first onto the least loaded worker.
// Ties go to fewer queues, then the lower index, so plans are deterministic.
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

// The worker for each queue, given each queue's recent cycles; same order as `rxq_cycles`.
std::vector<size_t> plan_rxq_assignment(const std::vector<uint64_t>& rxq_cycles, size_t workers);

}  // namespace podvs
