// Which worker polls which rx queue. New queues go to the least loaded worker by measured busy
// cycles (the work its queues actually cost, like OVS pmd-rxq-assign=cycles); when queues go
// away the control thread re-plans all of them, heaviest first onto the least loaded worker.
// Queues of one port (a multi-queue DPDK pod) go to different workers while there are workers
// without one: two of them on one worker would buy nothing over a single queue. Ties go to fewer
// queues, then the lower index, so plans are deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace podvs {

struct WorkerLoad {
  uint64_t rxq_cycles = 0;  // cycles its current rx queues consumed recently
  uint32_t rx_queues = 0;
  uint32_t port_queues = 0;  // queues of the port being placed it already polls
};

// Index into `loads`; `loads` must not be empty.
size_t pick_worker(const std::vector<WorkerLoad>& loads);

struct RxqLoad {
  uint64_t cycles = 0;  // recent cycles of the queue
  uint32_t port = 0;    // the port it belongs to: a port's queues are spread over workers
};

// The worker for each queue; same order as `queues`.
std::vector<size_t> plan_rxq_assignment(const std::vector<RxqLoad>& queues, size_t workers);

}  // namespace podvs
