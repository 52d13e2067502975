#include "tests/unit/eal_fixture.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace podvs::test {
namespace {

rte_mempool* g_pool = nullptr;

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string prefix = "--file-prefix=podvs_unit_" + std::to_string(getpid());
    std::vector<std::string> args = {"unit", "--no-huge",    "-m",
                                     "128",  "--no-shconf",  "--no-pci",
                                     prefix, "--lcores=0@0", "--log-level=3"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "EAL init failed";
    g_pool = rte_pktmbuf_pool_create("unit_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(g_pool, nullptr);
  }
  void TearDown() override {
    rte_mempool_free(g_pool);
    rte_eal_cleanup();
  }
};

const auto* const g_env = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

}  // namespace

rte_mempool* test_pool() { return g_pool; }

}  // namespace podvs::test
