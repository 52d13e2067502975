#include "pmd/rxq_scheduler.h"

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

}  // namespace podvs
