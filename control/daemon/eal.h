// The one place that knows how podvsd starts DPDK's EAL; the flags and why: docs/dpdk.md#eal-flags.
#pragma once

#include <string>
#include <vector>

namespace podvs {

struct EalOptions {
  std::string file_prefix;
  unsigned main_cpu = 0;
  std::vector<unsigned> worker_cpus;
  bool no_huge = false;
  std::vector<std::string> extra_args;
  std::string log_level = "info";
};

// The argv handed to rte_eal_init. Lcore 0 (main, control thread) runs on main_cpu; worker i is
// lcore i + 1 on worker_cpus[i].
std::vector<std::string> eal_arguments(const EalOptions& options);

// Throws std::runtime_error with DPDK's reason when the EAL does not come up.
void eal_init(const EalOptions& options);

}  // namespace podvs
