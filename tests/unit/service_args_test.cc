// The syntax of `podvsctl service add` and of `service load` lines: good inputs and their Service,
// bad inputs and their sentences.
#include "control/cli/service_args.h"

#include <gtest/gtest.h>

#include <string>

namespace podvs {
namespace {

TEST(ServiceArgs, Ports) {
  auto p = parse_service_port("http=tcp:80:8080:30080");
  ASSERT_TRUE(p.is_ok()) << p.error.message;
  EXPECT_EQ(p.value->name, "http");
  EXPECT_EQ(p.value->protocol, ServiceProto::tcp);
  EXPECT_EQ(p.value->port, 80);
  EXPECT_EQ(p.value->target_port, 8080);
  EXPECT_EQ(p.value->node_port, 30080);

  p = parse_service_port("udp:53");
  ASSERT_TRUE(p.is_ok()) << p.error.message;
  EXPECT_EQ(p.value->name, "");
  EXPECT_EQ(p.value->protocol, ServiceProto::udp);
  EXPECT_EQ(p.value->port, 53);
  EXPECT_EQ(p.value->target_port, 0);  // = port, filled in by normalise_service
  EXPECT_EQ(p.value->node_port, 0);

  p = parse_service_port("tcp:65535:1");
  ASSERT_TRUE(p.is_ok()) << p.error.message;
  EXPECT_EQ(p.value->port, 65535);
  EXPECT_EQ(p.value->target_port, 1);
}

TEST(ServiceArgs, BadPorts) {
  const std::pair<const char*, const char*> cases[] = {
      {"tcp",
       "--port 'tcp': it has 1 ':'-separated parts; expected "
       "[NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]]"},
      {"tcp:1:2:3:4",
       "--port 'tcp:1:2:3:4': it has 5 ':'-separated parts; expected "
       "[NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]]"},
      {"=tcp:80",
       "--port '=tcp:80': the name before '=' is empty; expected "
       "[NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]]"},
      {"sctp:80", "--port 'sctp:80': protocol 'sctp' is not tcp or udp"},
      {"TCP:80", "--port 'TCP:80': protocol 'TCP' is not tcp or udp"},
      {"tcp:http", "--port 'tcp:http': PORT 'http' is not a port number in 1..65535"},
      {"tcp:0", "--port 'tcp:0': PORT '0' is not a port number in 1..65535"},
      {"tcp:65536", "--port 'tcp:65536': PORT '65536' is not a port number in 1..65535"},
      {"tcp:80:", "--port 'tcp:80:': TARGET '' is not a port number in 1..65535"},
      {"tcp:80:-1", "--port 'tcp:80:-1': TARGET '-1' is not a port number in 1..65535"},
      {"tcp:80:80:99999",
       "--port 'tcp:80:80:99999': NODEPORT '99999' is not a port number in 1..65535"},
  };
  for (const auto& [text, expected] : cases) {
    const auto p = parse_service_port(text);
    EXPECT_FALSE(p.is_ok()) << text;
    EXPECT_EQ(p.error.code, ErrorCode::invalid_argument);
    EXPECT_EQ(p.error.message, expected);
  }
}

TEST(ServiceArgs, FormatIsTheInverseOfParse) {
  for (const char* text : {"http=tcp:80:8080:30080", "udp:53:53", "a=udp:1:2"}) {
    const auto p = parse_service_port(text);
    ASSERT_TRUE(p.is_ok()) << p.error.message;
    EXPECT_EQ(format_service_port(*p.value), text);
  }
}

TEST(ServiceArgs, EndpointsAndConditions) {
  struct Case {
    const char* text;
    bool ready, serving, terminating;
  };
  for (const Case& c :
       {Case{"10.244.0.5", true, true, false}, Case{"10.244.0.5:ready", true, true, false},
        Case{"10.244.0.5:terminating", false, true, true},
        Case{"10.244.0.5:terminating-not-serving", false, false, true},
        Case{"10.244.0.5:not-ready", false, false, false}}) {
    const auto e = parse_service_endpoint(c.text);
    ASSERT_TRUE(e.is_ok()) << e.error.message;
    EXPECT_EQ(e.value->ip, "10.244.0.5");
    EXPECT_EQ(e.value->ready, c.ready) << c.text;
    EXPECT_EQ(e.value->serving, c.serving) << c.text;
    EXPECT_EQ(e.value->terminating, c.terminating) << c.text;
  }
  auto e = parse_service_endpoint("10.244.0.5:gone");
  EXPECT_EQ(e.error.message,
            "--endpoint '10.244.0.5:gone': condition 'gone' is not ready, terminating, "
            "terminating-not-serving or not-ready");
  e = parse_service_endpoint("10.244.0:ready");
  EXPECT_EQ(e.error.message, "--endpoint '10.244.0:ready': '10.244.0' is not an IPv4 address");
  e = parse_service_endpoint("");
  EXPECT_EQ(e.error.message, "--endpoint '': '' is not an IPv4 address");
}

// After '@': the endpoint's own port per named Service port, as an EndpointSlice lists them.
TEST(ServiceArgs, EndpointPorts) {
  auto e = parse_service_endpoint("10.244.0.5@http=8081");
  ASSERT_TRUE(e.is_ok()) << e.error.message;
  EXPECT_TRUE(e.value->ready);
  ASSERT_EQ(e.value->ports.size(), 1u);
  EXPECT_EQ(e.value->ports[0].name, "http");
  EXPECT_EQ(e.value->ports[0].port, 8081);

  e = parse_service_endpoint("10.244.0.6:terminating@http=8081,metrics=9100,9000");
  ASSERT_TRUE(e.is_ok()) << e.error.message;
  EXPECT_EQ(e.value->ip, "10.244.0.6");
  EXPECT_TRUE(e.value->terminating);
  EXPECT_TRUE(e.value->serving);
  EXPECT_FALSE(e.value->ready);
  ASSERT_EQ(e.value->ports.size(), 3u);
  EXPECT_EQ(e.value->ports[1].name, "metrics");
  EXPECT_EQ(e.value->ports[1].port, 9100);
  EXPECT_EQ(e.value->ports[2].name, "");  // no NAME=: the unnamed Service port
  EXPECT_EQ(e.value->ports[2].port, 9000);

  EXPECT_EQ(parse_service_endpoint("10.244.0.5@http=0").error.message,
            "--endpoint '10.244.0.5@http=0': port 'http=0': '0' is not a port number in "
            "1..65535; expected IP[:COND][@[NAME=]PORT,...]");
  EXPECT_EQ(parse_service_endpoint("10.244.0.5@http=70000").error.message,
            "--endpoint '10.244.0.5@http=70000': port 'http=70000': '70000' is not a port number "
            "in 1..65535; expected IP[:COND][@[NAME=]PORT,...]");
  EXPECT_EQ(parse_service_endpoint("10.244.0.5@").error.message,
            "--endpoint '10.244.0.5@': port '': '' is not a port number in 1..65535; expected "
            "IP[:COND][@[NAME=]PORT,...]");
  EXPECT_EQ(parse_service_endpoint("10.244.0.5@=80").error.message,
            "--endpoint '10.244.0.5@=80': port '=80' has an empty name before '='; expected "
            "IP[:COND][@[NAME=]PORT,...]");
  EXPECT_EQ(parse_service_endpoint("10.244.0.5:gone@http=80").error.message,
            "--endpoint '10.244.0.5:gone@http=80': condition 'gone' is not ready, terminating, "
            "terminating-not-serving or not-ready");
}

TEST(ServiceArgs, OwnerAndEndpointPortsOnALine) {
  const auto s = parse_service_line(
      "default/web --cluster-ip 10.96.0.10 --port http=tcp:80:8080 --endpoint 10.244.0.5@http=9090 "
      "--owner podvs-agent");
  ASSERT_TRUE(s.is_ok()) << s.error.message;
  EXPECT_EQ(s.value->owner, "podvs-agent");
  ASSERT_EQ(s.value->endpoints.size(), 1u);
  ASSERT_EQ(s.value->endpoints[0].ports.size(), 1u);
  EXPECT_EQ(s.value->endpoints[0].ports[0].port, 9090);
  // Duplicate names pass the parser and are refused by validate_service.
  const auto dup = parse_service_line(
      "default/web --cluster-ip 10.96.0.10 --port http=tcp:80 --endpoint 10.244.0.5@http=1,http=2");
  EXPECT_EQ(dup.error.message,
            "service default/web: endpoints[0] (10.244.0.5) gives port 'http' twice (ports[0] and "
            "ports[1]); name each port once");
  EXPECT_EQ(parse_service_line("default/web --cluster-ip 10.96.0.10 --port tcp:80").value->owner,
            "");
}

TEST(ServiceArgs, References) {
  const auto r = parse_service_ref("kube-system/dns");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value->first, "kube-system");
  EXPECT_EQ(r.value->second, "dns");
  for (const char* bad : {"web", "/web", "default/", "a/b/c", ""})
    EXPECT_EQ(parse_service_ref(bad).error.message,
              std::string("service '") + bad + "' is not NS/NAME, such as default/web");
}

TEST(ServiceArgs, TheExampleOfThePlan) {
  const auto s = parse_service_line(
      "default/web --cluster-ip 10.96.0.10 --port http=tcp:80:8080 --port udp:53 "
      "--endpoint 10.244.0.5 --endpoint 10.244.0.6:terminating --affinity client-ip:600");
  ASSERT_TRUE(s.is_ok()) << s.error.message;
  const ServiceSpec& spec = *s.value;
  EXPECT_EQ(spec.ns, "default");
  EXPECT_EQ(spec.name, "web");
  EXPECT_EQ(spec.cluster_ip, "10.96.0.10");
  ASSERT_EQ(spec.ports.size(), 2u);
  EXPECT_EQ(format_service_port(spec.ports[0]), "http=tcp:80:8080");
  EXPECT_EQ(spec.ports[1].protocol, ServiceProto::udp);
  ASSERT_EQ(spec.endpoints.size(), 2u);
  EXPECT_TRUE(spec.endpoints[0].ready);
  EXPECT_TRUE(spec.endpoints[1].terminating);
  EXPECT_FALSE(spec.endpoints[1].ready);
  EXPECT_TRUE(spec.client_ip_affinity);
  EXPECT_EQ(spec.affinity_timeout_s, 600u);
  EXPECT_EQ(spec.external_traffic_policy, TrafficPolicy::cluster);
  EXPECT_EQ(spec.internal_traffic_policy, TrafficPolicy::cluster);
}

TEST(ServiceArgs, PoliciesAndDefaultAffinity) {
  const auto s = parse_service_line(
      "  ns1/svc   --cluster-ip 10.96.1.1 --port tcp:443:8443:30443 --affinity client-ip "
      "--external-traffic-policy local --internal-traffic-policy local\t");
  ASSERT_TRUE(s.is_ok()) << s.error.message;
  EXPECT_TRUE(s.value->client_ip_affinity);
  EXPECT_EQ(s.value->affinity_timeout_s, 10800u);
  EXPECT_EQ(s.value->external_traffic_policy, TrafficPolicy::local);
  EXPECT_EQ(s.value->internal_traffic_policy, TrafficPolicy::local);
  EXPECT_TRUE(s.value->endpoints.empty());
}

TEST(ServiceArgs, OptionsMayComeBeforeTheName) {
  const auto s = parse_service_line(
      "--port tcp:80 --endpoint 10.244.0.5 default/web --cluster-ip 10.96.0.10 --port udp:53");
  ASSERT_TRUE(s.is_ok()) << s.error.message;
  EXPECT_EQ(s.value->ns, "default");
  EXPECT_EQ(s.value->ports.size(), 2u);
  EXPECT_EQ(s.value->endpoints.size(), 1u);
}

TEST(ServiceArgs, BadLines) {
  const std::pair<const char*, const char*> cases[] = {
      {"default/web --port tcp:80", "--cluster-ip is required"},
      {"default/web --cluster-ip 10.96.0.10", "--port is required"},
      {"--cluster-ip 10.96.0.10 --port tcp:80", "service is required"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --colour blue",
       "The following arguments were not expected: blue --colour"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --external-traffic-policy nearby",
       "--external-traffic-policy: nearby not in {cluster,local}"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --affinity sticky",
       "--affinity 'sticky': expected client-ip or client-ip:TIMEOUT_S (seconds, 1..86400)"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --affinity client-ip:soon",
       "--affinity 'client-ip:soon': expected client-ip or client-ip:TIMEOUT_S (seconds, "
       "1..86400)"},
      // Parsed, then refused by validate_service with its own sentence.
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --affinity client-ip:0",
       "service default/web: affinity_timeout_s 0 is out of range 1..86400 seconds"},
      {"Default/web --cluster-ip 10.96.0.10 --port tcp:80",
       "service namespace 'Default' is not a DNS-1123 label: use 1 to 63 lowercase letters, "
       "digits or '-', starting and ending with a letter or digit"},
      {"default/web --cluster-ip 10.96.0.300 --port tcp:80",
       "service default/web: cluster_ip '10.96.0.300' is not an IPv4 address such as "
       "10.96.0.10"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --port tcp:80:81",
       "service default/web: ports[0] and ports[1] both serve tcp port 80"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --endpoint 10.1.1.1 --endpoint "
       "10.1.1.1:terminating",
       "service default/web: endpoints[0] and endpoints[1] are both 10.1.1.1; list each "
       "endpoint once"},
      {"web --cluster-ip 10.96.0.10 --port tcp:80",
       "service 'web' is not NS/NAME, such as default/web"},
      {"default/web --cluster-ip 10.96.0.10 --port sctp:80",
       "--port 'sctp:80': protocol 'sctp' is not tcp or udp"},
      {"default/web --cluster-ip 10.96.0.10 --port tcp:80 --endpoint 10.1.1.1:gone",
       "--endpoint '10.1.1.1:gone': condition 'gone' is not ready, terminating, "
       "terminating-not-serving or not-ready"},
  };
  for (const auto& [line, expected] : cases) {
    const auto s = parse_service_line(line);
    EXPECT_FALSE(s.is_ok()) << line;
    EXPECT_EQ(s.error.code, ErrorCode::invalid_argument);
    EXPECT_EQ(s.error.message, expected) << line;
  }
}

}  // namespace
}  // namespace podvs
