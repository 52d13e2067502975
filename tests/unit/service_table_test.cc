// ServiceIndex and CompiledService: which frontends a Service answers on, which endpoints each
// frontend may send new connections to (Kubernetes' readiness and traffic-policy rules), the
// Maglev table over them, and an index that stays exact as Services come, change and go.
#include "vswitch/services/service_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "tests/unit/packet_builder.h"

namespace podvs::test {
namespace {

constexpr uint32_t kMaglevSize = 251;  // a small prime: tables are built for every frontend here
constexpr uint64_t kTscHz = 1000;
constexpr const char* kClusterIp = "10.96.0.10";

rte_be32_t be(const std::string& text) { return rte_cpu_to_be_32(ip(text)); }
rte_be16_t be16(uint16_t port) { return rte_cpu_to_be_16(port); }

// This node's pod CIDR is 10.244.0.0/24: endpoints in it are local.
ServiceCompileParams params() {
  return {be("10.244.0.0"), be("255.255.255.0"), kMaglevSize, kTscHz};
}

ServiceDef::Endpoint ready(const std::string& addr) { return {be(addr), true, true, false}; }
ServiceDef::Endpoint terminating(const std::string& addr) { return {be(addr), false, true, true}; }
ServiceDef::Endpoint terminating_not_serving(const std::string& addr) {
  return {be(addr), false, false, true};
}
ServiceDef::Endpoint not_ready(const std::string& addr) { return {be(addr), false, false, false}; }

// tcp 80 → 8080 with NodePort 30080, udp 53 → 5353 without.
ServiceDef web(std::vector<ServiceDef::Endpoint> endpoints = {ready("10.244.0.5")}) {
  ServiceDef def;
  def.cluster_ip = be(kClusterIp);
  def.ports = {{IPPROTO_TCP, 80, 8080, 30080}, {IPPROTO_UDP, 53, 5353, 0}};
  def.endpoints = std::move(endpoints);
  return def;
}

std::set<std::string> eligible(const ServiceFrontend& f) {
  std::set<std::string> out;
  for (const ServiceBackend& b : f.backends)
    if (b.eligible) {
      const uint32_t a = rte_be_to_cpu_32(b.ip);
      out.insert(std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
                 std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff));
    }
  return out;
}

// The frontends of a single compiled Service, by what reaches them.
struct Frontends {
  const ServiceFrontend* cluster_ip = nullptr;  // tcp 80 on the ClusterIP
  const ServiceFrontend* node_port = nullptr;   // tcp 30080 on a node IP
};

class ServiceTableTest : public ::testing::Test {
 protected:
  const CompiledService& compile(const ServiceDef& def, const CompiledService* previous = nullptr) {
    compiled_.push_back(std::make_unique<CompiledService>(def, params(), previous, next_id_));
    return *compiled_.back();
  }
  Frontends frontends_of(const ServiceDef& def) {
    index_ = index_->with_service(compile(def), nullptr);
    return {index_->find(be(kClusterIp), be16(80), IPPROTO_TCP),
            index_->find_node_port(be16(30080), IPPROTO_TCP)};
  }

  std::vector<std::unique_ptr<CompiledService>> compiled_;
  uint32_t next_id_ = 1;
  std::shared_ptr<const ServiceIndex> index_ = std::make_shared<ServiceIndex>();
};

TEST_F(ServiceTableTest, ClusterIpPortsAndNodePortsAreFrontends) {
  const CompiledService& s = compile(web());
  const auto index = ServiceIndex().with_service(s, nullptr);

  // Two ClusterIP ports and one NodePort, which is keyed by address 0 (any node IP).
  ASSERT_EQ(s.entries().size(), 3u);
  EXPECT_EQ(index->frontends(), 3u);
  EXPECT_TRUE(index->has_node_ports());
  int node_port_entries = 0;
  for (const CompiledService::Entry& e : s.entries()) {
    EXPECT_EQ(e.ip, e.frontend->node_port ? 0u : be(kClusterIp));
    node_port_entries += e.frontend->node_port;
  }
  EXPECT_EQ(node_port_entries, 1);

  const ServiceFrontend* http = index->find(be(kClusterIp), be16(80), IPPROTO_TCP);
  const ServiceFrontend* dns = index->find(be(kClusterIp), be16(53), IPPROTO_UDP);
  const ServiceFrontend* node = index->find_node_port(be16(30080), IPPROTO_TCP);
  ASSERT_NE(http, nullptr);
  ASSERT_NE(dns, nullptr);
  ASSERT_NE(node, nullptr);
  EXPECT_FALSE(http->node_port);
  EXPECT_TRUE(node->node_port);
  // Affinity is per Service port, whichever way the client came in.
  EXPECT_EQ(http->affinity_id, node->affinity_id);
  EXPECT_NE(http->affinity_id, dns->affinity_id);
  // Backends listen on the target port.
  ASSERT_EQ(http->backends.size(), 1u);
  EXPECT_EQ(http->backends[0].port, be16(8080));
  EXPECT_EQ(dns->backends[0].port, be16(5353));
  EXPECT_EQ(node->backends[0].port, be16(8080));

  // Protocol and port must both match; the NodePort is not a ClusterIP port, nor the reverse.
  EXPECT_EQ(index->find(be(kClusterIp), be16(80), IPPROTO_UDP), nullptr);
  EXPECT_EQ(index->find(be(kClusterIp), be16(8080), IPPROTO_TCP), nullptr);
  EXPECT_EQ(index->find(be(kClusterIp), be16(30080), IPPROTO_TCP), nullptr);
  EXPECT_EQ(index->find_node_port(be16(30080), IPPROTO_UDP), nullptr);
  EXPECT_EQ(index->find_node_port(be16(80), IPPROTO_TCP), nullptr);
  // The ClusterIP's marker (port 0, protocol 0) is not a frontend.
  EXPECT_EQ(index->find(be(kClusterIp), 0, 0), nullptr);

  EXPECT_TRUE(index->is_cluster_ip(be(kClusterIp)));
  EXPECT_FALSE(index->is_cluster_ip(be("10.96.0.11")));
  EXPECT_FALSE(index->is_cluster_ip(0));
  EXPECT_FALSE(ServiceIndex().has_node_ports());
}

TEST_F(ServiceTableTest, ReplacingAServiceDropsItsOldFrontendsAndKeepsAffinityIds) {
  ServiceDef v1 = web();
  v1.ports = {{IPPROTO_TCP, 80, 8080, 0}, {IPPROTO_UDP, 53, 5353, 30053}};
  const CompiledService& s1 = compile(v1);
  const auto index1 = ServiceIndex().with_service(s1, nullptr);
  const uint32_t http_id = index1->find(be(kClusterIp), be16(80), IPPROTO_TCP)->affinity_id;
  const uint32_t dns_id = index1->find(be(kClusterIp), be16(53), IPPROTO_UDP)->affinity_id;

  // Version 2 keeps tcp 80 (new endpoints), drops udp 53 and its NodePort, adds tcp 443.
  ServiceDef v2 = web({ready("10.244.0.6")});
  v2.ports = {{IPPROTO_TCP, 80, 8080, 0}, {IPPROTO_TCP, 443, 8443, 0}};
  const CompiledService& s2 = compile(v2, &s1);
  const auto index2 = index1->with_service(s2, &s1);

  const ServiceFrontend* http = index2->find(be(kClusterIp), be16(80), IPPROTO_TCP);
  const ServiceFrontend* https = index2->find(be(kClusterIp), be16(443), IPPROTO_TCP);
  ASSERT_NE(http, nullptr);
  ASSERT_NE(https, nullptr);
  EXPECT_EQ(http->backends[0].ip, be("10.244.0.6"));
  EXPECT_EQ(index2->find(be(kClusterIp), be16(53), IPPROTO_UDP), nullptr);
  EXPECT_EQ(index2->find_node_port(be16(30053), IPPROTO_UDP), nullptr);
  EXPECT_FALSE(index2->has_node_ports());
  EXPECT_EQ(index2->frontends(), 2u);
  EXPECT_TRUE(index2->is_cluster_ip(be(kClusterIp)));
  // A client's affinity to port 80 survives the update; port 443 is a new frontend.
  EXPECT_EQ(http->affinity_id, http_id);
  EXPECT_NE(https->affinity_id, http_id);
  EXPECT_NE(https->affinity_id, dns_id);

  // The published index is immutable: workers still reading it see version 1.
  EXPECT_NE(index1->find(be(kClusterIp), be16(53), IPPROTO_UDP), nullptr);
  EXPECT_EQ(index1->find(be(kClusterIp), be16(443), IPPROTO_TCP), nullptr);
}

TEST_F(ServiceTableTest, WithoutServiceRemovesOnlyThatService) {
  ServiceDef other = web();
  other.cluster_ip = be("10.96.0.20");
  other.ports = {{IPPROTO_TCP, 80, 80, 30081}};
  const CompiledService& a = compile(web());
  const CompiledService& b = compile(other);
  const auto both = ServiceIndex().with_service(a, nullptr)->with_service(b, nullptr);
  const auto index = both->without_service(a);

  EXPECT_FALSE(index->is_cluster_ip(be(kClusterIp)));
  EXPECT_EQ(index->find(be(kClusterIp), be16(80), IPPROTO_TCP), nullptr);
  EXPECT_EQ(index->find_node_port(be16(30080), IPPROTO_TCP), nullptr);
  EXPECT_TRUE(index->is_cluster_ip(be("10.96.0.20")));
  EXPECT_NE(index->find(be("10.96.0.20"), be16(80), IPPROTO_TCP), nullptr);
  EXPECT_NE(index->find_node_port(be16(30081), IPPROTO_TCP), nullptr);
  EXPECT_TRUE(index->has_node_ports());
  EXPECT_EQ(index->frontends(), 2u);

  const auto none = index->without_service(b);
  EXPECT_EQ(none->frontends(), 0u);
  EXPECT_FALSE(none->has_node_ports());
  EXPECT_FALSE(none->is_cluster_ip(be("10.96.0.20")));
}

// Services added, replaced and removed at random, the index held against a std::map after every
// step: growth past the initial 64 slots, shrinking back, and backward-shift deletion in long
// probe chains must never lose or invent a frontend.
TEST_F(ServiceTableTest, RandomAddsReplacesAndRemovalsMatchAModel) {
  using Key = std::tuple<rte_be32_t, rte_be16_t, uint8_t>;
  constexpr int kServices = 300;
  constexpr int kSteps = 2000;
  std::mt19937 rng(7);
  std::map<int, std::unique_ptr<CompiledService>> live;
  std::map<Key, const ServiceFrontend*> model;
  std::set<Key> ever;
  std::set<rte_be32_t> cluster_ips;
  uint32_t next_id = 1;
  size_t max_frontends = 0;

  const auto cluster_ip_of = [](int i) {
    return rte_cpu_to_be_32(ip("10.96.0.0") + static_cast<uint32_t>(i) + 1);
  };
  const auto random_def = [&](int i) {
    ServiceDef def;
    def.cluster_ip = cluster_ip_of(i);
    const int ports = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < ports; ++p) {
      const uint8_t proto = rng() % 2 ? IPPROTO_TCP : IPPROTO_UDP;
      const auto port = static_cast<uint16_t>(1 + rng() % 4);  // few ports: repeats across versions
      if (std::any_of(def.ports.begin(), def.ports.end(),
                      [&](const auto& x) { return x.port == port && x.proto == proto; }))
        continue;
      // NodePorts are unique cluster-wide: derived from the Service and port.
      const auto node_port = static_cast<uint16_t>(rng() % 2 ? 30000 + i * 4 + port - 1 : 0);
      def.ports.push_back({proto, port, port, node_port});
    }
    def.endpoints = {{rte_cpu_to_be_32(ip("10.244.0.0") + 2 + rng() % 100), true, true, false}};
    return def;
  };
  const auto drop_from_model = [&](const CompiledService& s) {
    for (const auto& e : s.entries()) model.erase({e.ip, e.port, e.proto});
    cluster_ips.erase(s.cluster_ip());
  };

  std::shared_ptr<const ServiceIndex> index = std::make_shared<ServiceIndex>();
  for (int step = 0; step < kSteps; ++step) {
    // Mostly adds for the first half, as many adds as removals for the third quarter, removals
    // only for the last: the index grows and shrinks again.
    const int i = static_cast<int>(rng() % kServices);
    const bool grow = step < kSteps / 2       ? rng() % 4 != 0
                      : step < kSteps * 3 / 4 ? rng() % 2 == 0
                                              : false;
    const auto it = live.find(i);
    if (it == live.end() && grow) {
      auto s = std::make_unique<CompiledService>(random_def(i), params(), nullptr, next_id);
      index = index->with_service(*s, nullptr);
      for (const auto& e : s->entries()) model[{e.ip, e.port, e.proto}] = e.frontend.get();
      cluster_ips.insert(s->cluster_ip());
      live[i] = std::move(s);
    } else if (it != live.end() && grow) {
      auto s =
          std::make_unique<CompiledService>(random_def(i), params(), it->second.get(), next_id);
      index = index->with_service(*s, it->second.get());
      drop_from_model(*it->second);
      for (const auto& e : s->entries()) model[{e.ip, e.port, e.proto}] = e.frontend.get();
      cluster_ips.insert(s->cluster_ip());
      it->second = std::move(s);
    } else if (it != live.end()) {
      index = index->without_service(*it->second);
      drop_from_model(*it->second);
      live.erase(it);
    }
    for (const auto& [key, f] : model) ever.insert(key);
    max_frontends = std::max(max_frontends, model.size());

    ASSERT_EQ(index->frontends(), model.size()) << "step " << step;
    for (const Key& key : ever) {
      const auto [addr, port, proto] = key;
      const auto m = model.find(key);
      const ServiceFrontend* want = m != model.end() ? m->second : nullptr;
      const ServiceFrontend* got =
          addr == 0 ? index->find_node_port(port, proto) : index->find(addr, port, proto);
      ASSERT_EQ(got, want) << "step " << step << " ip " << addr << " port " << port;
    }
    for (int c = 0; c < kServices; ++c)
      ASSERT_EQ(index->is_cluster_ip(cluster_ip_of(c)), cluster_ips.count(cluster_ip_of(c)) == 1)
          << "step " << step << " service " << c;
  }
  // The walk really went past the initial 64 slots (at most half full) and back down.
  EXPECT_GT(max_frontends, 200u);
  EXPECT_LT(model.size(), max_frontends / 3);
}

TEST_F(ServiceTableTest, NewConnectionsGoToReadyEndpointsOnly) {
  const Frontends f = frontends_of(web({terminating("10.244.0.7"), ready("10.244.0.5"),
                                        not_ready("10.244.0.8"), ready("10.244.0.6")}));
  EXPECT_EQ(eligible(*f.cluster_ip), (std::set<std::string>{"10.244.0.5", "10.244.0.6"}));
  EXPECT_EQ(eligible(*f.node_port), (std::set<std::string>{"10.244.0.5", "10.244.0.6"}));
  // Every endpoint stays listed: connections already on it keep it.
  EXPECT_EQ(f.cluster_ip->backends.size(), 4u);
}

TEST_F(ServiceTableTest, WithoutReadyEndpointsServingTerminatingOnesTakeNewConnections) {
  const Frontends f = frontends_of(web(
      {not_ready("10.244.0.8"), terminating("10.244.0.7"), terminating_not_serving("10.244.0.9")}));
  EXPECT_EQ(eligible(*f.cluster_ip), (std::set<std::string>{"10.244.0.7"}));
  EXPECT_FALSE(f.cluster_ip->maglev.empty());
}

TEST_F(ServiceTableTest, NotReadyNonServingEndpointsNeverTakeNewConnections) {
  const Frontends f =
      frontends_of(web({not_ready("10.244.0.8"), terminating_not_serving("10.244.0.9")}));
  EXPECT_TRUE(eligible(*f.cluster_ip).empty());
  // An empty table is what makes the stage reject new connections.
  EXPECT_TRUE(f.cluster_ip->maglev.empty());
  EXPECT_TRUE(f.node_port->maglev.empty());
  EXPECT_EQ(f.cluster_ip->backends.size(), 2u);
}

TEST_F(ServiceTableTest, InternalTrafficPolicyLocalRestrictsOnlyTheClusterIp) {
  ServiceDef def = web({ready("10.244.0.5"), ready("10.244.1.5")});
  def.internal_local = true;
  const Frontends f = frontends_of(def);
  EXPECT_EQ(eligible(*f.cluster_ip), (std::set<std::string>{"10.244.0.5"}));
  EXPECT_EQ(eligible(*f.node_port), (std::set<std::string>{"10.244.0.5", "10.244.1.5"}));
  EXPECT_TRUE(f.cluster_ip->backends[0].local);
  EXPECT_FALSE(f.cluster_ip->backends[1].local);
}

TEST_F(ServiceTableTest, ExternalTrafficPolicyLocalRestrictsOnlyTheNodePort) {
  ServiceDef def = web({ready("10.244.1.5"), ready("10.244.0.5")});
  def.external_local = true;
  const Frontends f = frontends_of(def);
  EXPECT_EQ(eligible(*f.node_port), (std::set<std::string>{"10.244.0.5"}));
  EXPECT_EQ(eligible(*f.cluster_ip), (std::set<std::string>{"10.244.0.5", "10.244.1.5"}));
}

// Readiness is judged among the endpoints the policy allows: a ready remote endpoint does not
// stop a local terminating one from serving a Local frontend.
TEST_F(ServiceTableTest, LocalPolicyFallsBackToLocalTerminatingEndpoints) {
  ServiceDef def = web({ready("10.244.1.5"), terminating("10.244.0.7")});
  def.external_local = true;
  const Frontends f = frontends_of(def);
  EXPECT_EQ(eligible(*f.node_port), (std::set<std::string>{"10.244.0.7"}));
  EXPECT_EQ(eligible(*f.cluster_ip), (std::set<std::string>{"10.244.1.5"}));
}

TEST_F(ServiceTableTest, OnlyClusterPolicyNodePortsTranslateTheSource) {
  const Frontends cluster = frontends_of(web());
  EXPECT_TRUE(cluster.node_port->snat);
  EXPECT_FALSE(cluster.cluster_ip->snat);

  ServiceDef local = web();
  local.cluster_ip = be("10.96.0.20");
  local.ports = {{IPPROTO_TCP, 80, 8080, 30081}};
  local.external_local = true;
  index_ = index_->with_service(compile(local), nullptr);
  EXPECT_FALSE(index_->find_node_port(be16(30081), IPPROTO_TCP)->snat);
  EXPECT_FALSE(index_->find(be("10.96.0.20"), be16(80), IPPROTO_TCP)->snat);
}

TEST_F(ServiceTableTest, AffinitySettingsReachEveryFrontend) {
  ServiceDef def = web();
  def.client_ip_affinity = true;
  def.affinity_timeout_s = 600;
  const Frontends f = frontends_of(def);
  for (const ServiceFrontend* x : {f.cluster_ip, f.node_port}) {
    EXPECT_TRUE(x->affinity);
    EXPECT_EQ(x->affinity_timeout_tsc, 600 * kTscHz);
  }
  EXPECT_FALSE(compile(web()).entries()[0].frontend->affinity);
}

TEST_F(ServiceTableTest, MaglevSlotsPointAtEligibleBackendsSortedByAddress) {
  const Frontends f =
      frontends_of(web({ready("10.244.0.9"), not_ready("10.244.0.2"), ready("10.244.1.3"),
                        ready("10.244.0.10"), terminating("10.244.0.4")}));
  const ServiceFrontend& x = *f.cluster_ip;
  EXPECT_TRUE(std::is_sorted(x.backends.begin(), x.backends.end()));
  EXPECT_EQ(x.backends.front().ip, be("10.244.0.2"));
  EXPECT_EQ(x.backends.back().ip, be("10.244.1.3"));
  ASSERT_EQ(x.maglev.size(), kMaglevSize);
  std::map<uint16_t, int> slots;
  for (uint16_t i : x.maglev) {
    ASSERT_LT(i, x.backends.size());
    EXPECT_TRUE(x.backends[i].eligible);
    ++slots[i];
  }
  // Each of the three ready backends owns about a third of the table.
  ASSERT_EQ(slots.size(), 3u);
  for (const auto& [i, n] : slots) EXPECT_NEAR(n, kMaglevSize / 3.0, 1.0);
}

TEST_F(ServiceTableTest, FrontendFindsABackendByAddressAndPort) {
  const ServiceFrontend& x =
      *frontends_of(web({ready("10.244.0.9"), ready("10.244.0.5"), terminating("10.244.0.7")}))
           .cluster_ip;
  for (const char* addr : {"10.244.0.5", "10.244.0.7", "10.244.0.9"}) {
    const ServiceBackend* b = x.find(be(addr), be16(8080));
    ASSERT_NE(b, nullptr) << addr;
    EXPECT_EQ(b->ip, be(addr));
  }
  EXPECT_EQ(x.find(be("10.244.0.5"), be16(80)), nullptr);  // the Service port, not the target
  EXPECT_EQ(x.find(be("10.244.0.6"), be16(8080)), nullptr);
  EXPECT_EQ(x.find(be("10.244.0.1"), be16(8080)), nullptr);   // below every backend
  EXPECT_EQ(x.find(be("10.244.0.10"), be16(8080)), nullptr);  // above every backend
}

// Endpoints with their own ports (a named targetPort resolved per pod): each frontend's backend is
// (endpoint, that endpoint's port for this Service port), and its Maglev key includes the port.
TEST_F(ServiceTableTest, EndpointsOwnPortsMakeTheirBackends) {
  ServiceDef def = web({ready("10.244.0.5"), ready("10.244.0.6"), ready("10.244.0.7")});
  def.endpoints[0].target_ports = {8081, 5301};  // one per Service port: tcp 80, udp 53
  def.endpoints[1].target_ports = {9090, 5302};
  // 10.244.0.7 gives none: every port's target_port.
  const CompiledService& s = compile(def);
  const auto index = ServiceIndex().with_service(s, nullptr);
  const ServiceFrontend& http = *index->find(be(kClusterIp), be16(80), IPPROTO_TCP);
  const ServiceFrontend& dns = *index->find(be(kClusterIp), be16(53), IPPROTO_UDP);
  const ServiceFrontend& node = *index->find_node_port(be16(30080), IPPROTO_TCP);
  for (const auto& [frontend, expected] : std::vector<
           std::pair<const ServiceFrontend*, std::vector<std::pair<const char*, uint16_t>>>>{
           {&http, {{"10.244.0.5", 8081}, {"10.244.0.6", 9090}, {"10.244.0.7", 8080}}},
           {&node, {{"10.244.0.5", 8081}, {"10.244.0.6", 9090}, {"10.244.0.7", 8080}}},
           {&dns, {{"10.244.0.5", 5301}, {"10.244.0.6", 5302}, {"10.244.0.7", 5353}}}}) {
    ASSERT_EQ(frontend->backends.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(frontend->backends[i].ip, be(expected[i].first)) << i;
      EXPECT_EQ(frontend->backends[i].port, be16(expected[i].second)) << expected[i].first;
      const ServiceBackend* found = frontend->find(be(expected[i].first), be16(expected[i].second));
      ASSERT_NE(found, nullptr) << expected[i].first;
      EXPECT_TRUE(found->eligible);
    }
  }
  // The Service port's target_port is not where an endpoint with its own port is found.
  EXPECT_EQ(http.find(be("10.244.0.5"), be16(8080)), nullptr);
  std::set<uint16_t> owners(http.maglev.begin(), http.maglev.end());
  EXPECT_EQ(owners.size(), 3u);
}

}  // namespace
}  // namespace podvs::test
