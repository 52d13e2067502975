#include "perf/pktgen/rx_stats.h"

namespace podvs::pktgen {

RxStats::RxStats(uint32_t flows, uint64_t latency_capacity, uint64_t latency_every,
                 std::optional<VxlanRx> vxlan, std::optional<ExpectedDst> expect_dst)
    : next_seq_(flows, 0),
      latency_(latency_capacity, latency_every),
      vxlan_(vxlan),
      expect_dst_(expect_dst) {}

}  // namespace podvs::pktgen
