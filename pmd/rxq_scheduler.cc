#include "pmd/rxq_scheduler.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace podvs {

size_t pick_worker(const std::vector<WorkerLoad>& loads) {
  size_t best = 0;
  for (size_t i = 1; i < loads.size(); ++i) {
    if (std::tie(loads[i].rxq_cycles, loads[i].rx_queues) <
        std::tie(loads[best].rxq_cycles, loads[best].rx_queues))
      best = i;
  }
  return best;
}

std::vector<size_t> plan_rxq_assignment(const std::vector<uint64_t>& rxq_cycles, size_t workers) {
  std::vector<size_t> order(rxq_cycles.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rxq_cycles[a] > rxq_cycles[b]; });
  std::vector<WorkerLoad> loads(workers);
  std::vector<size_t> plan(rxq_cycles.size());
  for (size_t q : order) {
    const size_t w = pick_worker(loads);
    plan[q] = w;
    loads[w].rxq_cycles += rxq_cycles[q];
    ++loads[w].rx_queues;
  }
  return plan;
}

}  // namespace podvs
