#include "vswitch/forwarding_table.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include "tests/unit/table_fixture.h"

namespace podvs::test {
namespace {

rte_be32_t be(const char* text) { return rte_cpu_to_be_32(ip(text)); }

TEST(ForwardingTable, LocalPodGoesToItsPortWithItsMac) {
  auto t = make_table();
  const ForwardAction a = t->route(be("10.244.0.3"), kPodAPort);
  EXPECT_EQ(a.out_port, kPodBPort);
  EXPECT_TRUE(rte_is_same_ether_addr(&a.dst_mac, &t->port(kPodBPort).mac));
}

TEST(ForwardingTable, UnknownAddressInPodCidrHasNoRoute) {
  auto t = make_table();
  EXPECT_EQ(t->route(be("10.244.0.77"), kPodAPort).out_port, kNoPort);
  EXPECT_EQ(t->route(be("10.244.0.77"), kHostPort).out_port, kNoPort);
}

TEST(ForwardingTable, NodeAddressAndOutsideGoToTheHost) {
  auto t = make_table();
  EXPECT_EQ(t->route(be("10.244.0.1"), kPodAPort).out_port, kHostPort);
  EXPECT_EQ(t->route(be("192.0.2.10"), kPodAPort).out_port, kHostPort);
}

// With an overlay, cluster_cidr holds the node's own host IP, yet that address is the node's, not
// a pod's nobody owns.
TEST(ForwardingTable, TheHostIpInsideTheClusterCidrIsStillTheHost) {
  auto t = make_table();
  OverlayState overlay;
  overlay.uplink_port = 3;
  overlay.cluster_net = be("10.244.0.0");
  overlay.cluster_mask = be("255.255.0.0");
  t->set_overlay(overlay);
  EXPECT_EQ(t->route(be("10.244.0.1"), kPodAPort).out_port, kHostPort);
  EXPECT_EQ(t->route(be("10.244.0.1"), kNoPort).out_port, kHostPort);
  EXPECT_EQ(t->route(be("10.244.0.1"), kHostPort).out_port, kNoPort);
  EXPECT_EQ(t->route(be("10.244.9.9"), kPodAPort).out_port, kNoPort);
}

TEST(ForwardingTable, HostTrafficIsNeverSentBackToTheHost) {
  auto t = make_table();
  EXPECT_EQ(t->route(be("192.0.2.10"), kHostPort).out_port, kNoPort);
  EXPECT_EQ(t->route(be("10.244.0.2"), kHostPort).out_port, kPodAPort);
}

TEST(ForwardingTable, ManyPodsAllFound) {
  std::vector<PortEntry> ports(kDefaultPortCapacity);
  std::vector<ForwardingTable::PodRoute> routes;
  const Ipv4Prefix cidr = *Ipv4Prefix::parse("10.244.0.0/16");
  for (uint32_t i = 2; i < 5000; ++i)
    routes.push_back({cidr.network + i, static_cast<uint16_t>(i % 30)});
  const ForwardingTable t(1, {cidr, cidr.network + 1, ip("169.254.1.1"), {}}, ports, kNoPort,
                          routes);
  for (const auto& r : routes) EXPECT_EQ(t.route(rte_cpu_to_be_32(r.ip), 31).out_port, r.port);
  EXPECT_EQ(t.route(rte_cpu_to_be_32(cidr.network + 6000), 31).out_port, kNoPort);
}

}  // namespace
}  // namespace podvs::test
