// ServiceAdmission: frontends belong to one Service, ClusterIPs stay clear of the node's own
// addresses, capacity is enforced, and replacing or deleting a Service frees what it held.
#include "control/daemon/service_admission.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "control/api/service_spec.h"

namespace podvs {
namespace {

ServiceNode node() {
  return {"",
          4099,
          *parse_ipv4("169.254.1.1"),
          *parse_ipv4("10.244.0.1"),
          "podvs0",
          *parse_ipv4("192.168.1.10"),
          *Ipv4Prefix::parse("10.244.0.0/24"),
          *Ipv4Prefix::parse("10.244.0.0/16"),
          std::nullopt};
}

ServiceSpec service(const std::string& name, const std::string& ip) {
  ServiceSpec s;
  s.ns = "default";
  s.name = name;
  s.cluster_ip = ip;
  s.ports = {{"http", ServiceProto::tcp, 80, 0, 30080}, {"dns", ServiceProto::udp, 53, 5353, 0}};
  s.endpoints = {{"10.244.0.5"}, {"10.244.1.6"}};
  return s;
}

// Admission plus the map the switch keeps beside it.
class ServiceAdmissionTest : public testing::Test {
 protected:
  Result<ServiceSpec> add(const ServiceSpec& spec) {
    auto r = admission_.admit(spec, services_);
    if (!r.is_ok()) return r;
    const std::string key = service_key(spec.ns, spec.name);
    auto old = services_.find(key);
    admission_.added(*r.value, old == services_.end() ? nullptr : &old->second);
    services_[key] = *r.value;
    return r;
  }
  void del(const std::string& name) {
    auto it = services_.find("default/" + name);
    admission_.removed(it->second);
    services_.erase(it);
  }
  static void expect_error(const Result<ServiceSpec>& r, ErrorCode code,
                           const std::string& message) {
    ASSERT_FALSE(r.is_ok()) << message;
    EXPECT_EQ(r.error.code, code);
    EXPECT_EQ(r.error.message, message);
  }

  ServiceAdmission admission_{node()};
  std::map<std::string, ServiceSpec> services_;
};

TEST_F(ServiceAdmissionTest, AdmitsAndNormalises) {
  const auto r = add(service("web", "10.96.0.10"));
  ASSERT_TRUE(r.is_ok()) << r.error.message;
  EXPECT_EQ(r.value->ports[0].target_port, 80);
  EXPECT_EQ(r.value->ports[1].target_port, 5353);
  EXPECT_EQ(admission_.endpoints(), 2u);
}

TEST_F(ServiceAdmissionTest, InvalidServicesGetValidateServicesSentence) {
  ServiceSpec s = service("web", "10.96.0.10");
  s.ports[0].port = 0;
  expect_error(add(s), ErrorCode::invalid_argument,
               "service default/web: ports[0] (http) has port 0; a port is 1..65535");
}

TEST_F(ServiceAdmissionTest, ClusterIpMustNotBeTheNodes) {
  const std::pair<const char*, const char*> cases[] = {
      {"169.254.1.1", "the pods' gateway IP (gateway_ip)"},
      {"10.244.0.1", "this node's host IP (on podvs0)"},
      {"192.168.1.10", "this node's IP (node_ip)"},
      {"10.244.0.77", "inside the pod CIDR 10.244.0.0/24"},
      {"10.244.9.1", "inside the cluster CIDR 10.244.0.0/16"},
  };
  for (const auto& [ip, what] : cases)
    expect_error(add(service("web", ip)), ErrorCode::invalid_argument,
                 std::string("service default/web: cluster_ip ") + ip + " is " + what +
                     "; a ClusterIP must be an address no pod or node uses");
  EXPECT_TRUE(services_.empty());
}

TEST_F(ServiceAdmissionTest, WithoutOverlayOrClusterCidrThoseChecksAreOff) {
  ServiceNode n = node();
  n.node_ip = 0;
  n.cluster_cidr.reset();
  ServiceAdmission admission(n);
  EXPECT_TRUE(admission.admit(service("web", "10.244.9.1"), {}).is_ok());
  EXPECT_TRUE(admission.admit(service("web", "192.168.1.10"), {}).is_ok());
}

TEST_F(ServiceAdmissionTest, AClusterIpBelongsToOneService) {
  ASSERT_TRUE(add(service("web", "10.96.0.10")).is_ok());
  ServiceSpec other = service("other", "10.96.0.10");
  other.ports = {{"", ServiceProto::udp, 53, 0, 0}};
  expect_error(add(other), ErrorCode::already_exists,
               "service default/other: cluster_ip 10.96.0.10 belongs to service default/web");
  other.ports = {{"", ServiceProto::tcp, 9999, 0, 0}};  // a port web lacks: still web's address
  expect_error(add(other), ErrorCode::already_exists,
               "service default/other: cluster_ip 10.96.0.10 belongs to service default/web");
  other.cluster_ip = "10.96.0.11";
  EXPECT_TRUE(add(other).is_ok());
}

// Only the owner replaces a Service, whichever side owns it: an agent never takes over an
// operator's, an operator's `service add` never replaces an agent's.
TEST_F(ServiceAdmissionTest, OnlyItsOwnerReplacesAService) {
  ServiceSpec agents = service("web", "10.96.0.10");
  agents.owner = "podvs-agent";
  ASSERT_TRUE(add(agents).is_ok());
  ServiceSpec operators = agents;
  operators.owner = "";
  expect_error(add(operators), ErrorCode::failed_precondition,
               "service default/web belongs to owner \"podvs-agent\" and this request's owner is "
               "\"\" (an operator); only its owner may replace it (or delete it first)");
  ServiceSpec other_agent = agents;
  other_agent.owner = "other-agent";
  expect_error(add(other_agent), ErrorCode::failed_precondition,
               "service default/web belongs to owner \"podvs-agent\" and this request's owner is "
               "\"other-agent\"; only its owner may replace it (or delete it first)");
  EXPECT_EQ(services_.at("default/web").owner, "podvs-agent");
  agents.endpoints.resize(1);
  ASSERT_TRUE(add(agents).is_ok());  // its owner may
  EXPECT_EQ(services_.at("default/web").endpoints.size(), 1u);

  ServiceSpec mine = service("mine", "10.96.0.11");
  mine.ports[0].node_port = 0;
  ASSERT_TRUE(add(mine).is_ok());
  mine.owner = "podvs-agent";
  expect_error(add(mine), ErrorCode::failed_precondition,
               "service default/mine belongs to owner \"\" (an operator) and this request's "
               "owner is \"podvs-agent\"; only its owner may replace it (or delete it first)");
  // The owner is judged first: the refusal is about the name, not about web's NodePort 30080.
  mine.ports[0].node_port = 30080;
  EXPECT_EQ(add(mine).error.code, ErrorCode::failed_precondition);
}

// A new pod CIDR must not swallow a Service's ClusterIP: the Services are judged against the node
// as it would be, and later admissions against the node as it is.
TEST_F(ServiceAdmissionTest, ServicesAreCheckedAgainstAMovedNode) {
  auto without_node_port = [](const std::string& name, const std::string& ip) {
    ServiceSpec s = service(name, ip);
    s.ports[0].node_port = 0;
    return s;
  };
  ASSERT_TRUE(add(without_node_port("web", "10.96.0.10")).is_ok());
  ASSERT_TRUE(add(without_node_port("dns", "10.97.0.10")).is_ok());
  ServiceNode moved = node();
  moved.cluster_cidr.reset();
  moved.pod_cidr = *Ipv4Prefix::parse("10.98.0.0/16");
  moved.host_ip = *parse_ipv4("10.98.0.1");
  EXPECT_EQ(ServiceAdmission::conflict_with_node(moved, services_), "");
  moved.pod_cidr = *Ipv4Prefix::parse("10.97.0.0/24");
  EXPECT_EQ(ServiceAdmission::conflict_with_node(moved, services_),
            "service default/dns: cluster_ip 10.97.0.10 is inside the pod CIDR 10.97.0.0/24; a "
            "ClusterIP must be an address no pod or node uses");
  moved.pod_cidr = *Ipv4Prefix::parse("10.96.0.0/24");
  moved.host_ip = *parse_ipv4("10.96.0.1");
  EXPECT_NE(ServiceAdmission::conflict_with_node(moved, services_).find("default/web"),
            std::string::npos);

  moved.pod_cidr = *Ipv4Prefix::parse("10.99.0.0/24");
  moved.host_ip = *parse_ipv4("10.99.0.1");
  admission_.set_node(moved);
  expect_error(add(without_node_port("new", "10.99.0.20")), ErrorCode::invalid_argument,
               "service default/new: cluster_ip 10.99.0.20 is inside the pod CIDR 10.99.0.0/24; a "
               "ClusterIP must be an address no pod or node uses");
  // The old pod CIDR is free for ClusterIPs now.
  EXPECT_TRUE(add(without_node_port("old-cidr", "10.244.0.77")).is_ok());
}

TEST_F(ServiceAdmissionTest, UnavailableServicesAreRefusedWithTheReason) {
  ServiceNode n = node();
  n.unavailable = "Services need connection tracking; podvsd runs with conntrack_entries 0";
  ServiceAdmission admission(n);
  const auto r = admission.admit(service("web", "10.96.0.10"), {});
  EXPECT_EQ(r.error.code, ErrorCode::invalid_argument);
  EXPECT_EQ(r.error.message,
            "service default/web: Services need connection tracking; podvsd runs with "
            "conntrack_entries 0");
}

TEST_F(ServiceAdmissionTest, EndpointsMustBeFewerThanMaglevSlots) {
  ServiceNode n = node();
  n.maglev_table_size = 3;
  ServiceAdmission admission(n);
  ServiceSpec s = service("web", "10.96.0.10");  // two endpoints: fit in 3 slots
  EXPECT_TRUE(admission.admit(s, {}).is_ok());
  s.endpoints.push_back({"10.244.2.2"});
  const auto r = admission.admit(s, {});
  EXPECT_EQ(r.error.code, ErrorCode::invalid_argument);
  EXPECT_EQ(r.error.message,
            "service default/web: its 3 endpoints need a Maglev table larger than "
            "maglev_table_size 3");
}

TEST_F(ServiceAdmissionTest, ANodePortBelongsToOneService) {
  ASSERT_TRUE(add(service("web", "10.96.0.10")).is_ok());
  ServiceSpec other = service("other", "10.96.0.11");
  other.ports = {{"", ServiceProto::tcp, 8080, 0, 30080}};
  expect_error(add(other), ErrorCode::already_exists,
               "service default/other: node_port 30080/tcp is already used by service "
               "default/web");
  other.ports[0].protocol = ServiceProto::udp;
  EXPECT_TRUE(add(other).is_ok());
}

TEST_F(ServiceAdmissionTest, ReplacingAServiceFreesWhatItNoLongerUses) {
  ASSERT_TRUE(add(service("web", "10.96.0.10")).is_ok());
  // The same Service may keep its own frontends...
  ServiceSpec moved = service("web", "10.96.0.10");
  moved.cluster_ip = "10.96.0.20";
  moved.ports = {{"", ServiceProto::tcp, 80, 0, 0}};
  ASSERT_TRUE(add(moved).is_ok());
  // ...and what it gave up is free for others.
  ServiceSpec other = service("other", "10.96.0.10");
  other.ports = {{"", ServiceProto::tcp, 8080, 0, 30080}};
  EXPECT_TRUE(add(other).is_ok());
  EXPECT_EQ(admission_.endpoints(), 4u);
}

TEST_F(ServiceAdmissionTest, DeletingAServiceFreesItsFrontends) {
  ASSERT_TRUE(add(service("web", "10.96.0.10")).is_ok());
  del("web");
  EXPECT_EQ(admission_.endpoints(), 0u);
  EXPECT_TRUE(add(service("other", "10.96.0.10")).is_ok());
}

TEST_F(ServiceAdmissionTest, AtMostTenThousandServices) {
  ServiceSpec s = service("x", "10.96.0.1");
  s.ports = {{"", ServiceProto::tcp, 80, 0, 0}};
  s.endpoints.clear();
  for (size_t i = 0; i < ServiceAdmission::kMaxServices; ++i) {
    s.name = "svc-" + std::to_string(i);
    s.cluster_ip = ipv4_str(*parse_ipv4("10.96.0.1") + static_cast<Ipv4>(i));
    ASSERT_TRUE(add(s).is_ok()) << i;
  }
  s.name = "one-too-many";
  s.cluster_ip = "10.97.0.1";
  expect_error(add(s), ErrorCode::resource_exhausted,
               "service default/one-too-many: podvsd already serves 10000 services, its limit; "
               "delete one first");
  s.name = "svc-0";  // replacing one is still possible
  EXPECT_TRUE(add(s).is_ok());
}

TEST_F(ServiceAdmissionTest, AtMostAHundredThousandEndpointsInTotal) {
  ServiceSpec s = service("x", "10.96.0.1");
  s.ports = {{"", ServiceProto::tcp, 80, 0, 0}};
  s.endpoints.clear();
  for (uint32_t i = 0; i < kMaxEndpointsPerService; ++i)
    s.endpoints.push_back({ipv4_str(*parse_ipv4("10.1.0.1") + i)});
  const size_t full = ServiceAdmission::kMaxEndpoints / kMaxEndpointsPerService;  // 24 Services
  for (size_t i = 0; i < full; ++i) {
    s.name = "svc-" + std::to_string(i);
    s.cluster_ip = ipv4_str(*parse_ipv4("10.96.0.1") + static_cast<Ipv4>(i));
    ASSERT_TRUE(add(s).is_ok()) << i;
  }
  EXPECT_EQ(admission_.endpoints(), full * kMaxEndpointsPerService);  // 98,304
  s.name = "big";
  s.cluster_ip = "10.97.0.1";
  expect_error(add(s), ErrorCode::resource_exhausted,
               "service default/big: its 4096 endpoints and the other services' 98304 are more "
               "than podvsd's limit of 100000 endpoints in total");
  s.endpoints.resize(ServiceAdmission::kMaxEndpoints - full * kMaxEndpointsPerService);
  EXPECT_TRUE(add(s).is_ok());  // exactly 100,000
  // A replacement counts without the endpoints it replaces: svc-0 may grow back to 4096.
  s.name = "svc-0";
  s.cluster_ip = "10.96.0.1";
  s.endpoints.resize(kMaxEndpointsPerService, ServiceEndpoint{"10.2.0.1"});
  for (uint32_t i = 0; i < s.endpoints.size(); ++i)
    s.endpoints[i].ip = ipv4_str(*parse_ipv4("10.1.0.1") + i);
  const auto replaced = add(s);
  EXPECT_TRUE(replaced.is_ok()) << replaced.error.message;
}

}  // namespace
}  // namespace podvs

namespace podvs {
namespace {

// External IPs: another Service may use one on other ports (as in Kubernetes), never on the same
// port, and an external IP is never a ClusterIP, in either order.
TEST_F(ServiceAdmissionTest, ExternalIpsConflictPrecisely) {
  ServiceSpec web = service("web", "10.96.0.10");
  web.external_ips = {"203.0.113.10"};
  ASSERT_TRUE(add(web).is_ok());

  ServiceSpec same_port = service("other", "10.96.0.11");
  same_port.ports = {{"", ServiceProto::tcp, 80, 0, 0}};
  same_port.external_ips = {"198.51.100.1", "203.0.113.10"};
  expect_error(add(same_port), ErrorCode::already_exists,
               "service default/other: external_ips[1] 203.0.113.10 port 80/tcp is already "
               "served by service default/web");
  same_port.ports = {{"", ServiceProto::tcp, 8443, 0, 0}};  // another port of the same address
  EXPECT_TRUE(add(same_port).is_ok());

  ServiceSpec on_cluster_ip = service("third", "10.96.0.12");
  on_cluster_ip.ports = {{"", ServiceProto::tcp, 9000, 0, 0}};
  on_cluster_ip.external_ips = {"10.96.0.10"};
  expect_error(add(on_cluster_ip), ErrorCode::already_exists,
               "service default/third: external_ips[0] 10.96.0.10 is the cluster_ip of service "
               "default/web");
  ServiceSpec cluster_ip_taken = service("fourth", "203.0.113.10");
  cluster_ip_taken.ports = {{"", ServiceProto::tcp, 9000, 0, 0}};
  expect_error(add(cluster_ip_taken), ErrorCode::already_exists,
               "service default/fourth: cluster_ip 203.0.113.10 is an external IP of service "
               "default/web");

  // Deleting web frees its external IP's port 80.
  del("web");
  ServiceSpec again = service("again", "10.96.0.13");
  again.ports = {{"", ServiceProto::tcp, 80, 0, 0}};
  again.external_ips = {"203.0.113.10"};
  EXPECT_TRUE(add(again).is_ok());
}

TEST_F(ServiceAdmissionTest, ExternalIpsMustNotBeTheNodes) {
  const std::pair<const char*, const char*> cases[] = {
      {"169.254.1.1", "the pods' gateway IP (gateway_ip)"},
      {"10.244.0.1", "this node's host IP (on podvs0)"},
      {"192.168.1.10", "this node's IP (node_ip); serve it with a NodePort instead"},
      {"10.244.0.77", "inside the pod CIDR 10.244.0.0/24"},
      {"10.244.9.1", "inside the cluster CIDR 10.244.0.0/16"},
  };
  for (const auto& [ip, what] : cases) {
    ServiceSpec s = service("web", "10.96.0.10");
    s.external_ips = {"203.0.113.10", ip};
    expect_error(add(s), ErrorCode::invalid_argument,
                 std::string("service default/web: external_ips[1] ") + ip + " is " + what +
                     "; an external IP must be an address no pod or node uses");
  }
}

TEST_F(ServiceAdmissionTest, WithAServiceCidrClusterIpsLieInIt) {
  ServiceNode n = node();
  n.service_cidr = *Ipv4Prefix::parse("10.96.0.0/12");
  admission_.set_node(n);
  EXPECT_TRUE(add(service("web", "10.111.255.254")).is_ok());
  expect_error(add(service("out", "10.112.0.1")), ErrorCode::invalid_argument,
               "service default/out: cluster_ip 10.112.0.1 is outside the service CIDR "
               "10.96.0.0/12 (service_cidr, Kubernetes' --service-cluster-ip-range): the node "
               "routes only that range to podvs");
  // External IPs are the cluster's outside addresses: anywhere but the node's own.
  ServiceSpec s = service("ext", "10.96.0.20");
  s.ports[0].node_port = 0;
  s.external_ips = {"203.0.113.10"};
  EXPECT_TRUE(add(s).is_ok());
}

}  // namespace
}  // namespace podvs
