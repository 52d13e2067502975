// Starts a real DPDK EAL without hugepages for tests and fuzzers (--no-huge runs anywhere:
// docs/dpdk.md#without-hugepages), with a private file prefix so parallel runs never collide.
#pragma once

#include <rte_mempool.h>

namespace podvs::test {

// Returns false when the EAL does not come up. `log_level` is DPDK's (1 = quiet).
bool start_test_eal(const char* name, int log_level);
// An mbuf pool without per-lcore caches, so in-use counts are exact.
rte_mempool* make_test_pool(const char* name, unsigned mbufs);

}  // namespace podvs::test
