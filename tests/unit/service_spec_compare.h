// Field-by-field comparison of two ServiceSpecs, so a test that round-trips a Service (through
// the gRPC conversion or a saved file) names the field that changed.
#pragma once

#include <gtest/gtest.h>

#include "control/api/control_plane.h"

namespace podvs::test {

inline void expect_same(const ServiceSpec& a, const ServiceSpec& b) {
  EXPECT_EQ(a.ns, b.ns);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.cluster_ip, b.cluster_ip);
  EXPECT_EQ(a.external_ips, b.external_ips);
  ASSERT_EQ(a.ports.size(), b.ports.size());
  for (size_t i = 0; i < a.ports.size(); ++i) {
    EXPECT_EQ(a.ports[i].name, b.ports[i].name);
    EXPECT_EQ(a.ports[i].protocol, b.ports[i].protocol);
    EXPECT_EQ(a.ports[i].port, b.ports[i].port);
    EXPECT_EQ(a.ports[i].target_port, b.ports[i].target_port);
    EXPECT_EQ(a.ports[i].node_port, b.ports[i].node_port);
  }
  ASSERT_EQ(a.endpoints.size(), b.endpoints.size());
  for (size_t i = 0; i < a.endpoints.size(); ++i) {
    EXPECT_EQ(a.endpoints[i].ip, b.endpoints[i].ip);
    EXPECT_EQ(a.endpoints[i].ready, b.endpoints[i].ready);
    EXPECT_EQ(a.endpoints[i].serving, b.endpoints[i].serving);
    EXPECT_EQ(a.endpoints[i].terminating, b.endpoints[i].terminating);
    ASSERT_EQ(a.endpoints[i].ports.size(), b.endpoints[i].ports.size());
    for (size_t j = 0; j < a.endpoints[i].ports.size(); ++j) {
      EXPECT_EQ(a.endpoints[i].ports[j].name, b.endpoints[i].ports[j].name);
      EXPECT_EQ(a.endpoints[i].ports[j].port, b.endpoints[i].ports[j].port);
    }
  }
  EXPECT_EQ(a.client_ip_affinity, b.client_ip_affinity);
  EXPECT_EQ(a.affinity_timeout_s, b.affinity_timeout_s);
  EXPECT_EQ(a.external_traffic_policy, b.external_traffic_policy);
  EXPECT_EQ(a.internal_traffic_policy, b.internal_traffic_policy);
  EXPECT_EQ(a.owner, b.owner);
}

}  // namespace podvs::test
