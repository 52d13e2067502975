// libFuzzer target: arbitrary bytes as a frame arriving on a pod, host or unknown port, through
// the whole per-burst pipeline, with connection tracking and a Service (ClusterIP 10.96.0.10,
// TCP and UDP port 80, endpoints pods A and B), so that the Service path, reverse NAT, ICMP
// error translation and fragments are reached too. It must never crash, read out of bounds, or
// lose an mbuf.
#include <rte_mbuf.h>

#include <cstdlib>
#include <cstring>

#include "tests/fuzz/fuzz_setup.h"
#include "tests/unit/table_fixture.h"
#include "tests/unit/test_eal.h"
#include "vswitch/pipeline.h"
#include "vswitch/services/service_table.h"

namespace {

using namespace podvs::fuzz;

rte_mempool* g_pool = nullptr;
podvs::ForwardingTable* g_table = nullptr;
podvs::FlowCache* g_cache = nullptr;
podvs::WorkerCounters* g_counters = nullptr;
podvs::ConnState* g_conn = nullptr;
podvs::CompiledService* g_service = nullptr;

// The fixture's pod CIDR and pods (table_fixture.h), and a Service in front of both pods.
podvs::CompiledService* make_service() {
  podvs::ServiceDef def;
  using podvs::test::ip;
  def.cluster_ip = rte_cpu_to_be_32(ip(kClusterIp));
  def.ports = {{IPPROTO_TCP, kServicePort, kTargetPort, 0},
               {IPPROTO_UDP, kServicePort, kTargetPort, 0}};
  def.endpoints = {{rte_cpu_to_be_32(ip(kPodAIp))}, {rte_cpu_to_be_32(ip(kPodBIp))}};
  const podvs::ServiceCompileParams params{rte_cpu_to_be_32(0x0af40000),
                                           rte_cpu_to_be_32(0xffffff00), 251, rte_get_tsc_hz()};
  uint32_t next_id = 1;
  return new podvs::CompiledService(def, params, nullptr, next_id);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!podvs::test::start_test_eal("fuzz", 1)) std::abort();
  g_pool = podvs::test::make_test_pool("fuzz_pool", 1023);
  g_table = podvs::test::make_table().release();
  g_service = make_service();
  g_table->set_services(podvs::ServiceIndex().with_service(*g_service, nullptr));
  g_conn = new podvs::ConnState(*new podvs::SharedConnState(1024, 1, rte_get_tsc_hz(), nullptr), 0,
                                {40000, 40999}, 1);
  g_cache = new podvs::FlowCache(256);
  g_cache->sync(g_table->version());
  g_counters = new podvs::WorkerCounters();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1600) return 0;
  // The first byte picks the ingress port: host, pod A, pod B or a port the table does not know.
  const uint16_t in_port = data[0] % kInPorts;
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  char* payload = rte_pktmbuf_append(m, static_cast<uint16_t>(size - 1));
  if (size > 1) std::memcpy(payload, data + 1, size - 1);
  const unsigned in_use = rte_mempool_in_use_count(g_pool) - 1;

  podvs::TxBuffers tx;
  podvs::BurstContext ctx{*g_table, *g_cache, tx, *g_counters, 0, nullptr, g_conn, rte_rdtsc()};
  process_burst(in_port, &m, 1, ctx);
  for (uint16_t port = 0; port < 4; ++port)
    for (uint16_t i = 0; i < tx.pending(port); ++i) rte_pktmbuf_free(tx.packets(port)[i]);
  if (rte_mempool_in_use_count(g_pool) != in_use) std::abort();  // an mbuf was lost
  return 0;
}
