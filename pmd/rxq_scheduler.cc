#include "pmd/rxq_scheduler.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>

namespace podvs {

size_t pick_worker(const std::vector<WorkerLoad>& loads) {
  size_t best = 0;
  for (size_t i = 1; i < loads.size(); ++i) {
    if (std::tie(loads[i].port_queues, loads[i].rxq_cycles, loads[i].rx_queues) <
        std::tie(loads[best].port_queues, loads[best].rxq_cycles, loads[best].rx_queues))
      best = i;
  }
  return best;
}

std::vector<size_t> plan_rxq_assignment(const std::vector<RxqLoad>& queues, size_t workers) {
  std::vector<size_t> order(queues.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return queues[a].cycles > queues[b].cycles; });
  std::vector<WorkerLoad> loads(workers);
  std::map<std::pair<uint32_t, size_t>, uint32_t> port_queues;  // (port, worker) -> queues
  std::vector<size_t> plan(queues.size());
  for (size_t q : order) {
    for (size_t w = 0; w < workers; ++w) loads[w].port_queues = port_queues[{queues[q].port, w}];
    const size_t w = pick_worker(loads);
    plan[q] = w;
    loads[w].rxq_cycles += queues[q].cycles;
    ++loads[w].rx_queues;
    ++port_queues[{queues[q].port, w}];
  }
  return plan;
}

}  // namespace podvs
