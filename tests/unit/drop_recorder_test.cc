#include "vswitch/drop_recorder.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

TEST(DropRecorder, KeepsTheLastRecordsOldestFirstWithTheirHeaders) {
  auto recorder = std::make_unique<DropRecorder>();
  EXPECT_TRUE(recorder->snapshot().empty());
  for (uint16_t i = 0; i < kDropRecords + 10; ++i) {
    const auto frame = PacketBuilder()
                           .eth("0a:58:0a:f4:00:02", "0a:58:a9:fe:01:01")
                           .ipv4("10.244.0.2", "10.244.0.3", IPPROTO_UDP)
                           .udp(i, 9, 100)
                           .bytes();
    rte_mbuf* m = to_mbuf(test_pool(), frame);
    recorder->record(m, i % 3, DropReason::spoofed_source);
    rte_pktmbuf_free(m);
  }
  const auto records = recorder->snapshot();
  ASSERT_EQ(records.size(), kDropRecords);
  for (size_t i = 0; i < records.size(); ++i) {
    const uint16_t n = static_cast<uint16_t>(i + 10);  // the 10 oldest were overwritten
    EXPECT_EQ(records[i].port, n % 3);
    EXPECT_EQ(records[i].reason, DropReason::spoofed_source);
    EXPECT_EQ(records[i].length, 14 + 20 + 8 + 100);
    EXPECT_EQ(records[i].captured, kDropRecordBytes);
    EXPECT_EQ(records[i].bytes[34] << 8 | records[i].bytes[35], n) << "UDP source port";
    if (i > 0) {
      EXPECT_LE(records[i - 1].tsc, records[i].tsc);
    }
  }
}

TEST(DropRecorder, ShortFramesAreCapturedWhole) {
  auto recorder = std::make_unique<DropRecorder>();
  rte_mbuf* m = to_mbuf(test_pool(), {1, 2, 3, 4, 5});
  recorder->record(m, 7, DropReason::runt_frame);
  rte_pktmbuf_free(m);
  const auto records = recorder->snapshot();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].captured, 5);
  EXPECT_EQ(records[0].bytes[4], 5);
}

}  // namespace
}  // namespace podvs::test
