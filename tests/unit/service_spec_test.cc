// Every rule of validate_service, each with the exact sentence a person would read, and what
// normalise_service fills in.
#include "control/api/service_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "base/net_types.h"
#include "control/api/owner.h"

namespace podvs {
namespace {

ServiceSpec valid_service() {
  ServiceSpec s;
  s.ns = "default";
  s.name = "web";
  s.cluster_ip = "10.96.0.10";
  s.ports = {{"http", ServiceProto::tcp, 80, 8080, 30080}, {"dns", ServiceProto::udp, 53, 0, 0}};
  s.endpoints = {{"10.244.0.5", true, true, false}, {"10.244.1.6", false, true, true}};
  return s;
}

std::string error_of(const ServiceSpec& s) { return validate_service(s); }

TEST(ServiceSpec, KeyIsNamespaceSlashName) {
  EXPECT_EQ(service_key("kube-system", "dns"), "kube-system/dns");
}

TEST(ServiceSpec, ValidServiceHasNoError) {
  EXPECT_EQ(error_of(valid_service()), "");
  ServiceSpec s = valid_service();
  s.endpoints.clear();  // a Service without endpoints is valid: it rejects connections
  s.ports = {{"", ServiceProto::tcp, 65535, 65535, 65535}};
  s.affinity_timeout_s = kMaxAffinityTimeoutS;
  EXPECT_EQ(error_of(s), "");
  s.affinity_timeout_s = 1;
  EXPECT_EQ(error_of(s), "");
}

TEST(ServiceSpec, DnsLabels) {
  for (const char* good : {"a", "0", "kube-system", "a-b-c", "x1",
                           "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"})
    EXPECT_TRUE(is_dns_label(good)) << good;
  for (const char* bad : {"", "-a", "a-", "A", "a.b", "a_b", "a b", "é",
                          "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"})
    EXPECT_FALSE(is_dns_label(bad)) << bad;
}

TEST(ServiceSpec, NamespaceAndNameMustBeLabels) {
  ServiceSpec s = valid_service();
  s.ns = "Default";
  EXPECT_EQ(error_of(s),
            "service namespace 'Default' is not a DNS-1123 label: use 1 to 63 lowercase letters, "
            "digits or '-', starting and ending with a letter or digit");
  s = valid_service();
  s.name = "";
  EXPECT_EQ(error_of(s),
            "service name '' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or "
            "'-', starting and ending with a letter or digit");
  s.name = "web.v2";
  EXPECT_NE(error_of(s).find("service name 'web.v2' is not a DNS-1123 label"), std::string::npos);
  s.name = std::string(64, 'a');
  EXPECT_NE(error_of(s).find("is not a DNS-1123 label"), std::string::npos);
}

TEST(ServiceSpec, ClusterIpMustBeUnicastIpv4) {
  ServiceSpec s = valid_service();
  const std::pair<const char*, const char*> cases[] = {
      {"", "service default/web: cluster_ip '' is not an IPv4 address such as 10.96.0.10"},
      {"10.96.0",
       "service default/web: cluster_ip '10.96.0' is not an IPv4 address such as "
       "10.96.0.10"},
      {"10.96.0.256",
       "service default/web: cluster_ip '10.96.0.256' is not an IPv4 address "
       "such as 10.96.0.10"},
      {"fd00::1",
       "service default/web: cluster_ip 'fd00::1' is not an IPv4 address such as "
       "10.96.0.10"},
      {"0.0.0.0",
       "service default/web: cluster_ip 0.0.0.0 is the unspecified address; use a "
       "unicast IPv4 address"},
      {"255.255.255.255",
       "service default/web: cluster_ip 255.255.255.255 is the broadcast "
       "address; use a unicast IPv4 address"},
      {"224.0.0.1",
       "service default/web: cluster_ip 224.0.0.1 is a multicast address; use a "
       "unicast IPv4 address"},
      {"239.255.255.255",
       "service default/web: cluster_ip 239.255.255.255 is a multicast "
       "address; use a unicast IPv4 address"},
      {"127.0.0.53",
       "service default/web: cluster_ip 127.0.0.53 is a loopback address; use a "
       "unicast IPv4 address"},
  };
  for (const auto& [ip, expected] : cases) {
    s.cluster_ip = ip;
    EXPECT_EQ(error_of(s), expected) << ip;
  }
  for (const char* ok : {"1.0.0.0", "126.255.255.255", "128.0.0.1", "223.255.255.254"}) {
    s.cluster_ip = ok;
    EXPECT_EQ(error_of(s), "") << ok;
  }
}

TEST(ServiceSpec, ExternalIpsAreUnicastUniqueAndNotTheClusterIp) {
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"203.0.113.300"},
       "service default/web: external_ips[0] '203.0.113.300' is not an IPv4 address such as "
       "10.96.0.10"},
      {{"203.0.113.10", "224.0.0.5"},
       "service default/web: external_ips[1] 224.0.0.5 is a multicast address; use a unicast "
       "IPv4 address"},
      {{"10.96.0.10"},
       "service default/web: external_ips[0] 10.96.0.10 is the service's own cluster_ip; an "
       "external IP is another address"},
      {{"203.0.113.10", "198.51.100.1", "203.0.113.10"},
       "service default/web: external_ips[0] and external_ips[2] are both 203.0.113.10; list "
       "each external IP once"},
  };
  for (const auto& [ips, expected] : cases) {
    ServiceSpec s = valid_service();
    s.external_ips = ips;
    EXPECT_EQ(error_of(s), expected);
  }
  ServiceSpec s = valid_service();
  for (int i = 0; i < 16; ++i) s.external_ips.push_back("203.0.113." + std::to_string(i + 1));
  EXPECT_EQ(error_of(s), "");
  s.external_ips.push_back("203.0.113.100");
  EXPECT_EQ(error_of(s), "service default/web: it has 17 external IPs; at most 16 are allowed");
}

TEST(ServiceSpec, PortCountIsOneToAHundred) {
  ServiceSpec s = valid_service();
  s.ports.clear();
  EXPECT_EQ(error_of(s), "service default/web: it has no ports; give at least one");
  for (uint16_t p = 1; p <= kMaxPortsPerService; ++p)
    s.ports.push_back({"", ServiceProto::tcp, p, 0, 0});
  EXPECT_EQ(error_of(s), "");
  s.ports.push_back({"", ServiceProto::tcp, 1000, 0, 0});
  EXPECT_EQ(error_of(s), "service default/web: it has 101 ports; at most 100 are allowed");
}

TEST(ServiceSpec, PortZeroIsRejectedTargetAndNodePortZeroAreNot) {
  ServiceSpec s = valid_service();
  s.ports[1].port = 0;
  EXPECT_EQ(error_of(s), "service default/web: ports[1] (dns) has port 0; a port is 1..65535");
  s.ports[1] = {"", ServiceProto::udp, 0, 53, 0};
  EXPECT_EQ(error_of(s), "service default/web: ports[1] has port 0; a port is 1..65535");
  s.ports[1] = {"", ServiceProto::udp, 53, 0, 0};
  EXPECT_EQ(error_of(s), "");
}

TEST(ServiceSpec, SameProtocolAndPortTwiceIsRejected) {
  ServiceSpec s = valid_service();
  s.ports.push_back({"alt", ServiceProto::tcp, 80, 9090, 0});
  EXPECT_EQ(error_of(s),
            "service default/web: ports[0] (http) and ports[2] (alt) both serve tcp "
            "port 80");
  s.ports[2].protocol = ServiceProto::udp;  // udp/80 is another frontend
  EXPECT_EQ(error_of(s), "");
}

TEST(ServiceSpec, SameProtocolAndNodePortTwiceIsRejected) {
  ServiceSpec s = valid_service();
  s.ports.push_back({"", ServiceProto::tcp, 443, 8443, 30080});
  EXPECT_EQ(error_of(s),
            "service default/web: ports[0] (http) and ports[2] both use tcp node_port 30080");
  s.ports[2].protocol = ServiceProto::udp;
  EXPECT_EQ(error_of(s), "");
  s.ports[2] = {"", ServiceProto::tcp, 443, 0, 0};
  s.ports.push_back({"", ServiceProto::tcp, 444, 0, 0});  // node_port 0 twice: no node port
  EXPECT_EQ(error_of(s), "");
}

TEST(ServiceSpec, PortNamesAreUniqueLabels) {
  ServiceSpec s = valid_service();
  s.ports[1].name = "HTTP";
  EXPECT_EQ(error_of(s),
            "service default/web: ports[1] name 'HTTP' is not a DNS-1123 label: use 1 to 63 "
            "lowercase letters, digits or '-', starting and ending with a letter or digit");
  s.ports[1].name = "http";
  EXPECT_EQ(error_of(s),
            "service default/web: ports[0] (http) and ports[1] have the same name "
            "'http'; port names must be unique");
  s.ports[0].name = "";
  s.ports[1].name = "";  // unnamed ports need no unique name
  EXPECT_EQ(error_of(s), "");
}

TEST(ServiceSpec, EndpointsMustBeUnicastAndUnique) {
  ServiceSpec s = valid_service();
  s.endpoints[1].ip = "10.244.1";
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] ip '10.244.1' is not an IPv4 "
            "address such as 10.96.0.10");
  s.endpoints[1].ip = "224.1.2.3";
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] ip 224.1.2.3 is a multicast "
            "address; use a unicast IPv4 address");
  s.endpoints[1].ip = "127.0.0.1";
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] ip 127.0.0.1 is a loopback address; "
            "use a unicast IPv4 address");
  s.endpoints[1].ip = "0.0.0.0";
  EXPECT_NE(error_of(s).find("endpoints[1] ip 0.0.0.0 is the unspecified address"),
            std::string::npos);
  s.endpoints[1].ip = "255.255.255.255";
  EXPECT_NE(error_of(s).find("endpoints[1] ip 255.255.255.255 is the broadcast address"),
            std::string::npos);
  s.endpoints[1].ip = "10.244.0.5";
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[0] and endpoints[1] are both 10.244.0.5; "
            "list each endpoint once");
}

TEST(ServiceSpec, EndpointPortsAreNamedOnceAndNonZero) {
  ServiceSpec s = valid_service();
  s.endpoints[0].ports = {{"http", 8081}, {"", 9000}, {"metrics", 9100}};
  EXPECT_EQ(error_of(s), "");  // "" names the unnamed port; unknown names are harmless
  s.endpoints[1].ports = {{"http", 0}};
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1].ports[0] (port 'http' of 10.244.1.6) is 0; a port "
            "is 1..65535");
  s.endpoints[1].ports = {{"http", 8081}, {"dns", 53}, {"http", 8082}};
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] (10.244.1.6) gives port 'http' twice (ports[0] "
            "and ports[2]); name each port once");
  s.endpoints[1].ports = {{"", 8081}, {"", 8082}};
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] (10.244.1.6) gives the unnamed port twice "
            "(ports[0] and ports[1]); name each port once");
  s.endpoints[1].ports = {{"Http", 8081}};
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1].ports[0] name 'Http' is not a DNS-1123 label: use "
            "1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit");
  s.endpoints[1].ports.assign(kMaxPortsPerService + 1, {"", 1});
  EXPECT_EQ(error_of(s),
            "service default/web: endpoints[1] (10.244.1.6) has 101 ports; at most 100 are "
            "allowed");
}

// EndpointSlice semantics: matched by name, the unnamed port by "", else the target_port.
TEST(ServiceSpec, EndpointTargetPortMatchesByName) {
  const ServicePort http{"http", ServiceProto::tcp, 80, 8080, 0};
  const ServicePort unnamed{"", ServiceProto::tcp, 81, 0, 0};
  ServiceEndpoint e{"10.244.0.5"};
  EXPECT_EQ(endpoint_target_port(e, http), 8080);
  EXPECT_EQ(endpoint_target_port(e, unnamed), 81);  // target_port 0 means the port itself
  e.ports = {{"metrics", 9100}, {"http", 9090}};
  EXPECT_EQ(endpoint_target_port(e, http), 9090);
  EXPECT_EQ(endpoint_target_port(e, unnamed), 81);
  e.ports.push_back({"", 7000});
  EXPECT_EQ(endpoint_target_port(e, unnamed), 7000);
}

TEST(ServiceSpec, AtMost4096Endpoints) {
  ServiceSpec s = valid_service();
  s.endpoints.clear();
  for (uint32_t i = 0; i < kMaxEndpointsPerService; ++i)
    s.endpoints.push_back({ipv4_str(0x0af40000 + i + 1), true, true, false});
  EXPECT_EQ(error_of(s), "");
  s.endpoints.push_back({"10.245.0.1", true, true, false});
  EXPECT_EQ(error_of(s),
            "service default/web: it has 4097 endpoints; at most 4096 are allowed "
            "per service");
}

TEST(ServiceSpec, AffinityTimeoutIsOneSecondToOneDay) {
  ServiceSpec s = valid_service();
  s.affinity_timeout_s = 0;
  EXPECT_EQ(error_of(s),
            "service default/web: affinity_timeout_s 0 is out of range 1..86400 seconds");
  s.affinity_timeout_s = 86401;
  EXPECT_EQ(error_of(s),
            "service default/web: affinity_timeout_s 86401 is out of range 1..86400 seconds");
}

TEST(ServiceSpec, NormaliseFillsTargetPortAndKeepsOrder) {
  ServiceSpec s = valid_service();
  s.ports = {{"b", ServiceProto::udp, 53, 0, 0}, {"a", ServiceProto::tcp, 80, 8080, 0}};
  s.endpoints = {{"10.244.0.9"}, {"10.244.0.2"}};
  normalise_service(s);
  EXPECT_EQ(s.ports[0].target_port, 53);
  EXPECT_EQ(s.ports[1].target_port, 8080);
  EXPECT_EQ(s.ports[0].name, "b");
  EXPECT_EQ(s.endpoints[0].ip, "10.244.0.9");
  EXPECT_EQ(s.endpoints[1].ip, "10.244.0.2");
}

// The owner rules Services and remote nodes share (control/api/owner.h).
TEST(Owner, OnlyTheOwnerReplaces) {
  EXPECT_EQ(replace_refusal("node n2", "podvs-agent", "podvs-agent"), "");
  EXPECT_EQ(replace_refusal("node n2", "", ""), "");
  EXPECT_EQ(replace_refusal("node n2", "podvs-agent", ""),
            "node n2 belongs to owner \"podvs-agent\" and this request's owner is \"\" (an "
            "operator); only its owner may replace it (or delete it first)");
  EXPECT_EQ(replace_refusal("node n2", "", "podvs-agent"),
            "node n2 belongs to owner \"\" (an operator) and this request's owner is "
            "\"podvs-agent\"; only its owner may replace it (or delete it first)");
}

TEST(Owner, ADeleteNamingAnOwnerRemovesOnlyThatOwners) {
  EXPECT_EQ(delete_refusal("node n2", "podvs-agent", std::nullopt), "");  // no owner: any
  EXPECT_EQ(delete_refusal("node n2", "podvs-agent", "podvs-agent"), "");
  EXPECT_EQ(delete_refusal("node n2", "", std::string("")), "");
  EXPECT_EQ(delete_refusal("node n2", "", "podvs-agent"),
            "node n2 belongs to owner \"\" (an operator), not to \"podvs-agent\"; it was not "
            "deleted");
  EXPECT_EQ(delete_refusal("service default/web", "podvs-agent", std::string("")),
            "service default/web belongs to owner \"podvs-agent\", not to \"\" (an operator); "
            "it was not deleted");
}

TEST(Owner, AListNamingAnOwnerSelectsOnlyItsOwn) {
  EXPECT_TRUE(owner_selected(std::nullopt, ""));
  EXPECT_TRUE(owner_selected(std::nullopt, "podvs-agent"));
  EXPECT_TRUE(owner_selected(std::string(""), ""));
  EXPECT_FALSE(owner_selected(std::string(""), "podvs-agent"));
  EXPECT_TRUE(owner_selected(std::string("podvs-agent"), "podvs-agent"));
  EXPECT_FALSE(owner_selected(std::string("podvs-agent"), ""));
}

TEST(ServiceSpec, Names) {
  EXPECT_STREQ(service_proto_name(ServiceProto::tcp), "tcp");
  EXPECT_STREQ(service_proto_name(ServiceProto::udp), "udp");
  EXPECT_STREQ(traffic_policy_name(TrafficPolicy::cluster), "cluster");
  EXPECT_STREQ(traffic_policy_name(TrafficPolicy::local), "local");
}

}  // namespace
}  // namespace podvs
