#include "control/daemon/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <stdexcept>

namespace podvs {
namespace {

// DPDK's own log is verbose at info; keep it one step quieter than ours.
std::string dpdk_log_level(const std::string& ours) {
  if (ours == "debug") return "7";
  if (ours == "info") return "5";
  if (ours == "warning") return "4";
  return "3";
}

}  // namespace

std::vector<std::string> eal_arguments(const EalOptions& options) {
  std::vector<std::string> args = {"podvsd", "--file-prefix=" + options.file_prefix};
  std::string lcores = "0@" + std::to_string(options.main_cpu);
  for (size_t i = 0; i < options.worker_cpus.size(); ++i)
    lcores += "," + std::to_string(i + 1) + "@" + std::to_string(options.worker_cpus[i]);
  args.push_back("--lcores=" + lcores);
  // --in-memory leaves no hugepage files behind after a crash; it cannot go with --no-huge.
  if (options.no_huge) {
    args.insert(args.end(), {"--no-huge", "-m", "512", "--no-shconf"});
  } else {
    args.push_back("--in-memory");
  }
  // Every port of a single-node switch is a virtual device, hot-plugged at runtime.
  args.push_back("--no-pci");
  args.push_back("--log-level=" + dpdk_log_level(options.log_level));
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

void eal_init(const EalOptions& options) {
  std::vector<std::string> args = eal_arguments(options);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0)
    throw std::runtime_error(std::string("DPDK EAL initialisation failed: ") +
                             rte_strerror(rte_errno) +
                             " (are hugepages reserved and mounted? run scripts/setup.sh)");
}

}  // namespace podvs
