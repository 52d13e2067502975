// A real DPDK EAL for unit tests, without hugepages (docs/dpdk.md#without-hugepages): started
// once per test binary, with one shared mbuf pool.
#pragma once

#include <rte_mempool.h>

namespace podvs::test {

rte_mempool* test_pool();

}  // namespace podvs::test
