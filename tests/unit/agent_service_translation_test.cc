// Service + EndpointSlices -> ServiceSpec with kube-proxy's semantics: which Services are served
// (and the reason of each skip), ports by name, endpoint conditions with the API's defaults,
// duplicates across slices, affinity, traffic policies, and malformed objects (a reason, never
// an exception).
#include <gtest/gtest.h>

#include "control/agent/service_translation.h"
#include "control/api/service_spec.h"

namespace podvs::agent {
namespace {

using nlohmann::json;

json service(const std::string& name = "web") {
  return json::parse(R"({
    "kind": "Service", "apiVersion": "v1",
    "metadata": {"name": ")" +
                     name + R"(", "namespace": "default", "uid": "u1",
                 "resourceVersion": "5", "labels": {"app": "web"}},
    "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
             "ipFamilies": ["IPv4"], "selector": {"app": "web"}, "sessionAffinity": "None",
             "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]},
    "status": {"loadBalancer": {}}})");
}

json endpoint(const std::string& ip, const json& conditions = json::object()) {
  return {{"addresses", {ip}}, {"conditions", conditions}, {"nodeName", "n1"}};
}

json slice(const std::string& name, const json& ports, const std::vector<json>& endpoints,
           const std::string& service = "web") {
  return {{"kind", "EndpointSlice"},
          {"apiVersion", "discovery.k8s.io/v1"},
          {"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", ports},
          {"endpoints", json(endpoints)}};
}

json http_port(int port) {
  return json::array({{{"name", "http"}, {"protocol", "TCP"}, {"port", port}}});
}

ServiceSpec programmed(const json& svc, const std::vector<json>& slices = {}) {
  const ServiceTranslation t = service_from(svc, slices);
  EXPECT_TRUE(t.spec) << t.problem;
  return t.spec.value_or(ServiceSpec{});
}

std::string skipped(const json& svc, const std::vector<json>& slices = {}) {
  const ServiceTranslation t = service_from(svc, slices);
  if (t.spec) return "programmed";
  EXPECT_FALSE(t.problem.empty());
  return skip_reason_name(t.reason);
}

TEST(ServiceTranslation, ClusterIpPortsAndEndpoints) {
  json svc = service();
  svc["spec"]["type"] = "NodePort";
  svc["spec"]["ports"].push_back({{"name", "dns"},
                                  {"protocol", "UDP"},
                                  {"port", 53},
                                  {"targetPort", 5353},
                                  {"nodePort", 30053}});
  const json ports = {{{"name", "http"}, {"protocol", "TCP"}, {"port", 8080}},
                      {{"name", "dns"}, {"protocol", "UDP"}, {"port", 5353}}};
  const ServiceSpec s =
      programmed(svc, {slice("web-1", ports, {endpoint("10.244.0.7"), endpoint("10.244.0.5")})});
  EXPECT_EQ(s.ns, "default");
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(s.cluster_ip, "10.96.0.10");
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].name, "http");
  EXPECT_EQ(s.ports[0].protocol, ServiceProto::tcp);
  EXPECT_EQ(s.ports[0].port, 80);
  EXPECT_EQ(s.ports[0].target_port, 8080);
  EXPECT_EQ(s.ports[0].node_port, 0);
  EXPECT_EQ(s.ports[1].protocol, ServiceProto::udp);
  EXPECT_EQ(s.ports[1].node_port, 30053);
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[0].ip, "10.244.0.5");  // sorted by address, whatever the slice's order
  EXPECT_EQ(s.endpoints[1].ip, "10.244.0.7");
  ASSERT_EQ(s.endpoints[0].ports.size(), 2u);
  EXPECT_EQ(s.endpoints[0].ports[0].name, "http");
  EXPECT_EQ(s.endpoints[0].ports[0].port, 8080);
  EXPECT_EQ(s.endpoints[0].ports[1].name, "dns");
  EXPECT_EQ(s.endpoints[0].ports[1].port, 5353);
  EXPECT_FALSE(s.client_ip_affinity);
  EXPECT_EQ(s.external_traffic_policy, TrafficPolicy::cluster);
  EXPECT_EQ(s.internal_traffic_policy, TrafficPolicy::cluster);
  EXPECT_EQ(s.owner, "");
  EXPECT_EQ(validate_service(s), "");
}

TEST(ServiceTranslation, ExternalIpsAndLoadBalancerIngressAreServedLikeTheClusterIp) {
  json svc = service();
  svc["spec"]["type"] = "LoadBalancer";
  svc["spec"]["externalIPs"] = {"192.0.2.10", "192.0.2.10", "2001:db8::1", 7};
  svc["status"]["loadBalancer"]["ingress"] = {{{"ip", "198.51.100.4"}},
                                              {{"hostname", "lb.example.com"}}};
  const ServiceSpec s = programmed(svc, {slice("web-1", http_port(8080), {endpoint("10.244.0.5")})});
  // Once each, IPv4 only (podvsd is IPv4; a hostname is the load balancer's to resolve).
  EXPECT_EQ(s.external_ips, (std::vector<std::string>{"192.0.2.10", "198.51.100.4"}));
  json same = service();
  same["spec"]["externalIPs"] = {"10.96.0.10"};  // its own ClusterIP: podvsd refuses it
  EXPECT_EQ(skipped(same), "invalid");
}

TEST(ServiceTranslation, ServicesAProxyDoesNotServeAreSkippedWithTheirReason) {
  json headless = service();
  headless["spec"]["clusterIP"] = "None";
  EXPECT_EQ(skipped(headless), "headless");
  json external = service();
  external["spec"] = {{"type", "ExternalName"}, {"externalName", "db.example.com"}};
  EXPECT_EQ(skipped(external), "external_name");
  json other_proxy = service();
  other_proxy["metadata"]["labels"]["service.kubernetes.io/service-proxy-name"] = "other";
  EXPECT_EQ(skipped(other_proxy), "proxy_name");
  json none = service();
  none["spec"].erase("clusterIP");
  EXPECT_EQ(skipped(none), "no_cluster_ip");
  none["spec"]["clusterIP"] = "";
  EXPECT_EQ(skipped(none), "no_cluster_ip");
  json v6 = service();
  v6["spec"]["clusterIP"] = "fd00::10";
  v6["spec"]["clusterIPs"] = {"fd00::10"};
  EXPECT_EQ(skipped(v6), "ipv6");
  // Dual stack with IPv6 first: the IPv4 ClusterIP is served.
  v6["spec"]["clusterIPs"] = {"fd00::10", "10.96.0.11"};
  EXPECT_EQ(programmed(v6).cluster_ip, "10.96.0.11");
  json sctp = service();
  sctp["spec"]["ports"][0]["protocol"] = "SCTP";
  EXPECT_EQ(skipped(sctp), "unsupported_protocol");
  json bad_ip = service();
  bad_ip["spec"]["clusterIP"] = "224.0.0.1";
  EXPECT_EQ(skipped(bad_ip), "invalid");
  json no_ports = service();
  no_ports["spec"].erase("ports");
  EXPECT_EQ(skipped(no_ports), "invalid");
}

TEST(ServiceTranslation, AnSctpPortIsLeftOutAndTheOthersServed) {
  json svc = service();
  svc["spec"]["ports"].push_back({{"name", "sig"}, {"protocol", "SCTP"}, {"port", 9}});
  const ServiceTranslation t = service_from(svc, {});
  ASSERT_TRUE(t.spec);
  EXPECT_EQ(t.spec->ports.size(), 1u);
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("SCTP"), std::string::npos) << t.notes[0];
}

TEST(ServiceTranslation, AThousandPortsIsSkippedAsTooMany) {
  json svc = service();
  svc["spec"]["ports"] = json::array();
  for (int i = 0; i < 1000; ++i)
    svc["spec"]["ports"].push_back(
        {{"name", "p" + std::to_string(i)}, {"protocol", "TCP"}, {"port", 1000 + i}});
  const ServiceTranslation t = service_from(svc, {});
  EXPECT_FALSE(t.spec);
  EXPECT_EQ(t.reason, SkipReason::too_many_ports);
  EXPECT_NE(t.problem.find("1000 ports"), std::string::npos) << t.problem;
  // The most podvsd takes is fine.
  auto& ports = svc["spec"]["ports"];
  ports.erase(ports.begin() + kMaxPortsPerService, ports.end());
  EXPECT_EQ(programmed(svc).ports.size(), kMaxPortsPerService);
}

TEST(ServiceTranslation, ANamedTargetPortResolvesPerPodThroughTheSlices) {
  json svc = service();
  svc["spec"]["ports"][0]["targetPort"] = "web";  // a container port name
  const ServiceSpec s =
      programmed(svc, {slice("web-a", http_port(8080), {endpoint("10.244.0.5")}),
                       slice("web-b", http_port(8081), {endpoint("10.244.0.6")})});
  EXPECT_EQ(s.ports[0].target_port, 80);  // no number of its own: only the slices know
  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(endpoint_target_port(s.endpoints[0], s.ports[0]), 8080);
  EXPECT_EQ(endpoint_target_port(s.endpoints[1], s.ports[0]), 8081);
}

TEST(ServiceTranslation, PortsMatchByNameOnly) {
  json svc = service();
  svc["spec"]["ports"][0].erase("name");  // the unnamed port matches the slice's unnamed one
  json unnamed = json::array({{{"protocol", "TCP"}, {"port", 8080}}});
  EXPECT_EQ(programmed(svc, {slice("a", unnamed, {endpoint("10.244.0.5")})}).endpoints.size(), 1u);
  // A slice whose ports name none of the Service's gives no endpoint (kube-proxy has none).
  json other = json::array({{{"name", "metrics"}, {"protocol", "TCP"}, {"port", 9100}}});
  EXPECT_TRUE(programmed(svc, {slice("b", other, {endpoint("10.244.0.5")})}).endpoints.empty());
  // Nor does one with no ports, or a port of the name on another protocol, or without a number.
  EXPECT_TRUE(programmed(service(), {slice("c", json::array(), {endpoint("10.244.0.5")})})
                  .endpoints.empty());
  json udp = http_port(8080);
  udp[0]["protocol"] = "UDP";
  EXPECT_TRUE(programmed(service(), {slice("d", udp, {endpoint("10.244.0.5")})}).endpoints.empty());
  json no_number = http_port(8080);
  no_number[0].erase("port");
  EXPECT_TRUE(
      programmed(service(), {slice("e", no_number, {endpoint("10.244.0.5")})}).endpoints.empty());
}

TEST(ServiceTranslation, EndpointConditionsAndTheirDefaults) {
  std::vector<json> all = {
      endpoint("10.244.0.1"),                      // none given
      endpoint("10.244.0.2", {{"ready", false}}),  // serving defers to ready
      endpoint("10.244.0.3", {{"ready", false}, {"serving", true}, {"terminating", true}}),
      endpoint("10.244.0.4", {{"ready", false}, {"serving", false}, {"terminating", true}}),
      endpoint("10.244.0.5", {{"ready", nullptr}, {"serving", nullptr}, {"terminating", nullptr}}),
  };
  json no_conditions = endpoint("10.244.0.6");
  no_conditions.erase("conditions");
  all.push_back(no_conditions);
  const ServiceSpec s = programmed(service(), {slice("s", http_port(8080), all)});
  ASSERT_EQ(s.endpoints.size(), 6u);
  auto conditions = [&](size_t i) {
    const ServiceEndpoint& e = s.endpoints[i];
    return std::to_string(e.ready) + std::to_string(e.serving) + std::to_string(e.terminating);
  };
  EXPECT_EQ(conditions(0), "110");
  EXPECT_EQ(conditions(1), "000");
  EXPECT_EQ(conditions(2), "011");
  EXPECT_EQ(conditions(3), "001");
  EXPECT_EQ(conditions(4), "110");
  EXPECT_EQ(conditions(5), "110");
}

TEST(ServiceTranslation, SlicesAreMergedAndDuplicateAddressesDeduplicated) {
  const ServiceSpec s = programmed(
      service(), {slice("a", http_port(8080),
                        {endpoint("10.244.0.1", {{"ready", false}}), endpoint("10.244.0.2")}),
                  slice("b", http_port(8080), {endpoint("10.244.0.1"), endpoint("10.244.0.3")})});
  ASSERT_EQ(s.endpoints.size(), 3u);
  EXPECT_EQ(s.endpoints[0].ip, "10.244.0.1");
  EXPECT_TRUE(s.endpoints[0].ready);  // the ready copy wins
  EXPECT_EQ(validate_service(s), "");
}

TEST(ServiceTranslation, OnlyIpv4SlicesAndUsableAddressesCount) {
  json v6 = slice("v6", http_port(8080), {endpoint("fd00::5")});
  v6["addressType"] = "IPv6";
  json fqdn = slice("f", http_port(8080), {endpoint("db.example.com")});
  fqdn["addressType"] = "FQDN";
  json other_proxy = slice("o", http_port(8080), {endpoint("10.244.0.9")});
  other_proxy["metadata"]["labels"]["service.kubernetes.io/service-proxy-name"] = "x";
  json bad = slice("bad", http_port(8080), {endpoint("10.244.0.300"), endpoint("10.244.0.4")});
  bad["endpoints"].push_back({{"addresses", json::array()}});
  const ServiceTranslation t = service_from(service(), {v6, fqdn, other_proxy, bad});
  ASSERT_TRUE(t.spec) << t.problem;
  ASSERT_EQ(t.spec->endpoints.size(), 1u);
  EXPECT_EQ(t.spec->endpoints[0].ip, "10.244.0.4");
  EXPECT_EQ(t.notes.size(), 2u);
}

TEST(ServiceTranslation, AffinityAndTrafficPolicies) {
  json svc = service();
  svc["spec"]["sessionAffinity"] = "ClientIP";
  ServiceSpec s = programmed(svc);
  EXPECT_TRUE(s.client_ip_affinity);
  EXPECT_EQ(s.affinity_timeout_s, 10800u);
  svc["spec"]["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", 60}}}};
  EXPECT_EQ(programmed(svc).affinity_timeout_s, 60u);
  svc["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] = 86401;
  EXPECT_EQ(skipped(svc), "invalid");

  json local = service();
  local["spec"]["externalTrafficPolicy"] = "Local";
  local["spec"]["internalTrafficPolicy"] = "Local";
  s = programmed(local);
  EXPECT_EQ(s.external_traffic_policy, TrafficPolicy::local);
  EXPECT_EQ(s.internal_traffic_policy, TrafficPolicy::local);
  local["spec"]["externalTrafficPolicy"] = "Global";  // the older spelling of Cluster
  EXPECT_EQ(programmed(local).external_traffic_policy, TrafficPolicy::cluster);
  local["spec"]["externalTrafficPolicy"] = "Sometimes";
  EXPECT_EQ(skipped(local), "invalid");
}

TEST(ServiceTranslation, MalformedObjectsGiveAReasonNeverAnException) {
  const std::vector<std::pair<const char*, json>> patches = {
      {"/metadata", 7},
      {"/metadata/name", json::array()},
      {"/metadata/labels", "x"},
      {"/spec", nullptr},
      {"/spec", "x"},
      {"/spec/type", 3},
      {"/spec/clusterIP", 10},
      {"/spec/ports", {{"name", "x"}}},
      {"/spec/ports/0", "http"},
      {"/spec/ports/0/port", "80"},
      {"/spec/ports/0/port", 70000},
      {"/spec/ports/0/port", 1.5},
      {"/spec/ports/0/targetPort", json::array()},
      {"/spec/ports/0/targetPort", 0},
      {"/spec/ports/0/nodePort", -1},
      {"/spec/ports/0/protocol", false},
      {"/spec/ports/0/name", "Not_A_Label"},
      {"/spec/sessionAffinity", 1},
      {"/spec/externalTrafficPolicy", json::object()},
  };
  for (const auto& [path, value] : patches) {
    json svc = service();
    svc[json::json_pointer(path)] = value;
    ServiceTranslation t;
    EXPECT_NO_THROW(t = service_from(svc, {})) << path;
    EXPECT_FALSE(t.spec) << path << " = " << value.dump();
    EXPECT_EQ(t.reason, SkipReason::invalid) << path;
    EXPECT_FALSE(t.problem.empty()) << path;
  }
  EXPECT_FALSE(service_from(json("a string"), {}).spec);
  EXPECT_FALSE(service_from(json::array(), {}).spec);

  const std::vector<std::pair<const char*, json>> slice_patches = {
      {"/addressType", 4},
      {"/ports", "http"},
      {"/ports/0", 8080},
      {"/ports/0/port", "8080"},
      {"/endpoints", 1},
      {"/endpoints/0", "10.244.0.1"},
      {"/endpoints/0/conditions", "ready"},
      {"/endpoints/0/conditions/ready", "yes"},
      {"/endpoints/0/addresses", "10.244.0.1"},
  };
  // A malformed slice is ignored (with a note); the Service keeps its other slices' endpoints.
  const json good = slice("good", http_port(8080), {endpoint("10.244.0.9")});
  for (const auto& [path, value] : slice_patches) {
    json bad = slice("s", http_port(8080), {endpoint("10.244.0.2"), endpoint("10.244.0.1")});
    bad[json::json_pointer(path)] = value;
    ServiceTranslation t;
    EXPECT_NO_THROW(t = service_from(service(), {bad, good})) << path;
    ASSERT_TRUE(t.spec) << path;
    ASSERT_EQ(t.spec->endpoints.size(), 1u) << path;
    EXPECT_EQ(t.spec->endpoints[0].ip, "10.244.0.9") << path;
    ASSERT_FALSE(t.notes.empty()) << path;
    EXPECT_NE(t.notes.back().find("the slice is ignored"), std::string::npos) << t.notes.back();
  }
  EXPECT_TRUE(service_from(service(), {json(42)}).spec);
}

TEST(ServiceTranslation, SlimObjectsTranslateTheSame) {
  json svc = service();
  svc["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  svc["spec"]["externalIPs"] = {"192.0.2.10"};
  json s = slice("a", http_port(8080),
                 {endpoint("10.244.0.1", {{"ready", false}, {"serving", true}}), json("odd")});
  s["endpoints"][0]["hints"] = {{"forZones", json::array()}};
  const ServiceTranslation full = service_from(svc, {s});
  const ServiceTranslation slim = service_from(slim_service(svc), {slim_slice(s)});
  ASSERT_TRUE(full.spec);
  ASSERT_TRUE(slim.spec);
  EXPECT_EQ(slim.spec->endpoints.size(), full.spec->endpoints.size());
  EXPECT_EQ(slim.notes, full.notes);
  EXPECT_FALSE(slim_service(svc)["metadata"].contains("managedFields"));
  EXPECT_FALSE(slim_slice(s)["endpoints"][0].contains("nodeName"));
  // Wrong types stay wrong, so the reason is the same.
  svc["metadata"] = 7;
  EXPECT_EQ(service_from(slim_service(svc), {}).problem, service_from(svc, {}).problem);
  EXPECT_EQ(slim_slice(json(3)), json(3));
}

TEST(ServiceTranslation, SliceServiceKeyAndTriggerTime) {
  json s = slice("web-x1", http_port(8080), {});
  EXPECT_EQ(slice_service_key(s), "default/web");
  s["metadata"]["labels"].erase("kubernetes.io/service-name");
  EXPECT_EQ(slice_service_key(s), "");
  EXPECT_EQ(slice_service_key(json(1)), "");
  EXPECT_FALSE(slice_trigger_time(s));
  s["metadata"]["annotations"] = {
      {"endpoints.kubernetes.io/last-change-trigger-time", "2026-12-02T07:00:00Z"}};
  const auto t = slice_trigger_time(s);
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1796194800);
}

TEST(ServiceTranslation, Rfc3339) {
  using namespace std::chrono;
  const auto base = parse_rfc3339("2026-12-02T07:00:00Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(parse_rfc3339("2026-12-02T07:00:00.250Z").value() - *base, milliseconds(250));
  EXPECT_EQ(parse_rfc3339("2026-12-02T07:00:00.123456789Z").value() - *base,
            duration_cast<system_clock::duration>(nanoseconds(123456789)));
  EXPECT_EQ(parse_rfc3339("2026-12-02T09:00:00+02:00"), base);
  EXPECT_EQ(parse_rfc3339("2026-12-02T06:30:00-00:30"), base);
  for (const char* bad :
       {"", "2026-12-02", "2026-12-02T07:00:00", "2026-13-02T07:00:00Z", "2026-12-02T07:00:00.Z",
        "2026-12-02T07:00:00Zjunk", "yesterday", "4235-01-01T00:00:00Z", "1969-12-31T23:59:59Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

}  // namespace
}  // namespace podvs::agent
