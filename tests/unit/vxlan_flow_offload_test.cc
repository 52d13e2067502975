// The VXLAN steering rule item by item and action by action, and the probe on a real port that
// has no rte_flow support (net_ring): refused with a reason, and the port still forwards.
#include "overlay/vxlan_flow_offload.h"

#include <gtest/gtest.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>

#include "tests/unit/eal_fixture.h"
#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

VxlanFlowSpec spec_with_queues(std::vector<uint16_t> queues) {
  VxlanFlowSpec spec;
  spec.node_ip = RTE_BE32(0x0a000105);  // 10.0.1.5
  spec.udp_port = 4789;
  spec.vni = 0x123456;
  spec.mark = 0xabc;
  spec.queues = std::move(queues);
  return spec;
}

template <typename T>
std::vector<uint8_t> raw(const void* p) {
  const auto* b = static_cast<const uint8_t*>(p);
  return {b, b + sizeof(T)};
}

std::vector<rte_flow_item_type> item_types(const rte_flow_item* items) {
  std::vector<rte_flow_item_type> types;
  for (;; ++items) {
    types.push_back(items->type);
    if (items->type == RTE_FLOW_ITEM_TYPE_END) return types;
  }
}

TEST(VxlanFlowRule, AttributesSayIngressOnly) {
  const VxlanFlowRule rule(spec_with_queues({0}));
  EXPECT_EQ(rule.attr().ingress, 1u);
  EXPECT_EQ(rule.attr().egress, 0u);
  EXPECT_EQ(rule.attr().transfer, 0u);
  EXPECT_EQ(rule.attr().group, 0u);
  EXPECT_EQ(rule.attr().priority, 0u);
}

TEST(VxlanFlowRule, PatternMatchesNodeIpUdpPortAndVni) {
  const VxlanFlowRule rule(spec_with_queues({0}));
  const rte_flow_item* p = rule.pattern();
  ASSERT_EQ(item_types(p),
            (std::vector<rte_flow_item_type>{RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
                                             RTE_FLOW_ITEM_TYPE_UDP, RTE_FLOW_ITEM_TYPE_VXLAN,
                                             RTE_FLOW_ITEM_TYPE_END}));
  EXPECT_EQ(p[0].spec, nullptr);  // any Ethernet frame
  EXPECT_EQ(p[0].mask, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p[i].last, nullptr) << "item " << i;

  // IPv4: destination 10.0.1.5 (bytes 16-19 of the header) under a full mask, nothing else.
  ASSERT_EQ(offsetof(rte_ipv4_hdr, dst_addr), 16u);
  std::vector<uint8_t> ip_spec(sizeof(rte_ipv4_hdr), 0), ip_mask(sizeof(rte_ipv4_hdr), 0);
  const std::vector<uint8_t> node_ip = {10, 0, 1, 5}, full = {0xff, 0xff, 0xff, 0xff};
  std::copy(node_ip.begin(), node_ip.end(), ip_spec.begin() + 16);
  std::copy(full.begin(), full.end(), ip_mask.begin() + 16);
  EXPECT_EQ(raw<rte_flow_item_ipv4>(p[1].spec), ip_spec);
  EXPECT_EQ(raw<rte_flow_item_ipv4>(p[1].mask), ip_mask);

  // UDP: destination port 4789 (0x12b5) under a full mask.
  EXPECT_EQ(raw<rte_flow_item_udp>(p[2].spec),
            (std::vector<uint8_t>{0, 0, 0x12, 0xb5, 0, 0, 0, 0}));
  EXPECT_EQ(raw<rte_flow_item_udp>(p[2].mask),
            (std::vector<uint8_t>{0, 0, 0xff, 0xff, 0, 0, 0, 0}));

  // VXLAN: flags(1) reserved(3) VNI(3) reserved(1); only the VNI is matched.
  ASSERT_EQ(sizeof(rte_flow_item_vxlan), 8u);
  EXPECT_EQ(raw<rte_flow_item_vxlan>(p[3].spec),
            (std::vector<uint8_t>{0, 0, 0, 0, 0x12, 0x34, 0x56, 0}));
  EXPECT_EQ(raw<rte_flow_item_vxlan>(p[3].mask),
            (std::vector<uint8_t>{0, 0, 0, 0, 0xff, 0xff, 0xff, 0}));
}

TEST(VxlanFlowRule, OneQueueMeansMarkThenQueue) {
  const VxlanFlowRule rule(spec_with_queues({3}));
  const rte_flow_action* a = rule.actions();
  ASSERT_EQ(a[0].type, RTE_FLOW_ACTION_TYPE_MARK);
  EXPECT_EQ(static_cast<const rte_flow_action_mark*>(a[0].conf)->id, 0xabcu);
  ASSERT_EQ(a[1].type, RTE_FLOW_ACTION_TYPE_QUEUE);
  EXPECT_EQ(static_cast<const rte_flow_action_queue*>(a[1].conf)->index, 3);
  EXPECT_EQ(a[2].type, RTE_FLOW_ACTION_TYPE_END);
}

TEST(VxlanFlowRule, SeveralQueuesMeanMarkThenRssOverThem) {
  VxlanFlowSpec spec = spec_with_queues({1, 2, 5});
  const VxlanFlowRule rule(spec);
  spec.queues.assign({9, 9, 9});  // the rule keeps its own copy
  const rte_flow_action* a = rule.actions();
  ASSERT_EQ(a[0].type, RTE_FLOW_ACTION_TYPE_MARK);
  EXPECT_EQ(static_cast<const rte_flow_action_mark*>(a[0].conf)->id, 0xabcu);
  ASSERT_EQ(a[1].type, RTE_FLOW_ACTION_TYPE_RSS);
  const auto* rss = static_cast<const rte_flow_action_rss*>(a[1].conf);
  EXPECT_EQ(rss->func, RTE_ETH_HASH_FUNCTION_DEFAULT);
  EXPECT_EQ(rss->level, 0u);
  EXPECT_EQ(rss->types, RTE_ETH_RSS_NONFRAG_IPV4_UDP);
  EXPECT_EQ(rss->key_len, 0u);
  EXPECT_EQ(rss->key, nullptr);
  ASSERT_EQ(rss->queue_num, 3u);
  EXPECT_EQ(std::vector<uint16_t>(rss->queue, rss->queue + 3), (std::vector<uint16_t>{1, 2, 5}));
  EXPECT_EQ(a[2].type, RTE_FLOW_ACTION_TYPE_END);
}

TEST(VxlanFlowRule, RejectsSpecsItCannotExpress) {
  EXPECT_THROW(VxlanFlowRule(spec_with_queues({})), std::invalid_argument);
  VxlanFlowSpec wide = spec_with_queues({0});
  wide.vni = 1u << 24;
  EXPECT_THROW(VxlanFlowRule{wide}, std::invalid_argument);
  wide.vni = (1u << 24) - 1;
  EXPECT_NO_THROW(VxlanFlowRule{wide});
}

TEST(VxlanFlowOffload, MarkedNeedsTheFdirIdFlagAndOurMark) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  ASSERT_NE(m, nullptr);
  m->hash.fdir.hi = 0xabc;
  EXPECT_FALSE(vxlan_marked(m, 0xabc));  // no flag: hash.fdir.hi is not a mark
  m->ol_flags |= RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;
  EXPECT_TRUE(vxlan_marked(m, 0xabc));
  EXPECT_FALSE(vxlan_marked(m, 0xabd));
  rte_pktmbuf_free(m);
}

// A net_ring port looped back on itself: what it transmits, it receives.
class RingPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string n = std::to_string(seq_++);
    ring_ = rte_ring_create(("vxlan_loop" + n).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(ring_, nullptr);
    const int id = rte_eth_from_rings(("vxlan_ring" + n).c_str(), &ring_, 1, &ring_, 1, 0);
    ASSERT_GE(id, 0);
    port_ = static_cast<uint16_t>(id);
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 64, 0, nullptr, test_pool()), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 64, 0, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(port_), 0);
  }
  void TearDown() override {
    rte_eth_dev_stop(port_);
    rte_eth_dev_close(port_);
    rte_ring_free(ring_);
  }

  static inline int seq_ = 0;  // DPDK names must be unique among live rings and ports
  rte_ring* ring_ = nullptr;
  uint16_t port_ = 0;
};

// net_ring has no flow ops: rte_flow answers ENOSYS before any driver code runs.
std::string no_flow_api(const char* step) {
  return std::string("rte_flow ") + step + " refused: " + rte_strerror(ENOSYS) + " (type " +
         std::to_string(static_cast<int>(RTE_FLOW_ERROR_TYPE_UNSPECIFIED)) + ")";
}

TEST_F(RingPortTest, ProbeIsRefusedWithTheDriversReasonAndThePortStillWorks) {
  const OffloadProbe probe = probe_vxlan_offload(port_, spec_with_queues({0}));
  EXPECT_FALSE(probe.offloaded);
  EXPECT_EQ(probe.reason, no_flow_api("validate"));
  EXPECT_EQ(probe.flow, nullptr);

  const auto frame = PacketBuilder()
                         .eth("02:00:00:00:00:01", "02:00:00:00:00:02")
                         .ipv4("10.0.1.9", "10.0.1.5", 17)
                         .udp(1234, 4789)
                         .bytes();
  rte_mbuf* out = to_mbuf(test_pool(), frame);
  ASSERT_EQ(rte_eth_tx_burst(port_, 0, &out, 1), 1);
  rte_mbuf* in = nullptr;
  ASSERT_EQ(rte_eth_rx_burst(port_, 0, &in, 1), 1);
  EXPECT_EQ(from_mbuf(in), frame);
  rte_pktmbuf_free(in);
}

TEST_F(RingPortTest, ProbeReportsASpecTheBuilderRejects) {
  VxlanFlowSpec spec = spec_with_queues({0});
  spec.vni = 1u << 24;
  const OffloadProbe probe = probe_vxlan_offload(port_, spec);
  EXPECT_FALSE(probe.offloaded);
  EXPECT_EQ(probe.reason, "VXLAN flow rule: vni 16777216 does not fit in 24 bits");
  EXPECT_EQ(probe.flow, nullptr);
}

TEST_F(RingPortTest, RemoveReportsTheDriversRefusal) {
  EXPECT_EQ(remove_vxlan_offload(port_, nullptr), no_flow_api("destroy"));
}

TEST(VxlanFlowOffload, ProbeOnAPortThatDoesNotExistIsRefused) {
  const OffloadProbe probe = probe_vxlan_offload(RTE_MAX_ETHPORTS - 1, spec_with_queues({0}));
  EXPECT_FALSE(probe.offloaded);
  EXPECT_EQ(probe.reason,
            std::string("rte_flow validate refused: ") + rte_strerror(ENODEV) + " (type " +
                std::to_string(static_cast<int>(RTE_FLOW_ERROR_TYPE_UNSPECIFIED)) + ")");
  EXPECT_EQ(probe.flow, nullptr);
}

}  // namespace
}  // namespace podvs::test
