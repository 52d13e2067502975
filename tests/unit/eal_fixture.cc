#include "tests/unit/eal_fixture.h"

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "tests/unit/test_eal.h"

namespace podvs::test {
namespace {

rte_mempool* g_pool = nullptr;

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_TRUE(start_test_eal("unit", 3)) << "EAL init failed";
    g_pool = make_test_pool("unit_pool", 4095);
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
