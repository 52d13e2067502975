#include "tests/unit/test_eal.h"

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace podvs::test {

bool start_test_eal(const char* name, int log_level) {
  const std::string prefix =
      "--file-prefix=podvs_" + std::string(name) + "_" + std::to_string(getpid());
  const std::string level = "--log-level=" + std::to_string(log_level);
  std::vector<std::string> args = {name,       "--no-huge", "-m",           "128", "--no-shconf",
                                   "--no-pci", prefix,      "--lcores=0@0", level};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

rte_mempool* make_test_pool(const char* name, unsigned mbufs) {
  return rte_pktmbuf_pool_create(name, mbufs, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
}

}  // namespace podvs::test
