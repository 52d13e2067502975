// podvs-cni's output: the ADD result shaped for each cniVersion, prevResult kept, CHECK's
// comparison with prevResult, the VERSION answer, the error object and the device-info content.
#include "cni-shim/cni_result.h"

#include <gtest/gtest.h>

#include "cni-shim/cni_error.h"
#include "cni-shim/cni_version.h"
#include "cni-shim/device_info.h"

namespace podvs::cni {
namespace {

using json = nlohmann::json;

const Attachment kTap{.ifname = "eth0",
                      .mac = "0a:58:0a:f4:00:05",
                      .sandbox = "/var/run/netns/p",
                      .mtu = 1500,
                      .socket_path = "",
                      .ip = "10.244.0.5",
                      .gateway = "169.254.1.1"};

const json kDefaultRoute = {{"dst", "0.0.0.0/0"}, {"gw", "169.254.1.1"}};

TEST(Result, Pre1Versions) {
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0"}) {
    const json r = shape_result(kTap, v, json(), json());
    const json expected = {
        {"cniVersion", v},
        {"interfaces", {{{"name", "eth0"}, {"mac", kTap.mac}, {"sandbox", kTap.sandbox}}}},
        {"ips",
         {{{"version", "4"},
           {"address", "10.244.0.5/32"},
           {"gateway", "169.254.1.1"},
           {"interface", 0}}}},
        {"routes", {kDefaultRoute}},
    };
    EXPECT_EQ(r, expected) << v << ": " << r.dump();
  }
}

TEST(Result, V100DropsIpVersion) {
  const json r = shape_result(kTap, "1.0.0", json(), json());
  EXPECT_EQ(r["cniVersion"], "1.0.0");
  EXPECT_FALSE(r["ips"][0].contains("version"));
  EXPECT_FALSE(r["interfaces"][0].contains("mtu"));
  EXPECT_EQ(r["routes"], json::array({kDefaultRoute}));
}

TEST(Result, V110AddsMtuSocketPathAndLinkScopeRoute) {
  Attachment vhost = kTap;
  vhost.socket_path = "/run/podvs/vhost/c1/vhost-user.sock";
  const json r = shape_result(vhost, "1.1.0", json(), json());
  EXPECT_EQ(r["interfaces"][0]["mtu"], 1500);
  EXPECT_EQ(r["interfaces"][0]["socketPath"], vhost.socket_path);
  const json expected_routes = {{{"dst", "169.254.1.1/32"}, {"scope", 253}}, kDefaultRoute};
  EXPECT_EQ(r["routes"], expected_routes);
  // No socketPath key for tap pods.
  EXPECT_FALSE(shape_result(kTap, "1.1.0", json(), json())["interfaces"][0].contains("socketPath"));
  // Older results cannot carry it.
  EXPECT_FALSE(
      shape_result(vhost, "1.0.0", json(), json())["interfaces"][0].contains("socketPath"));
}

TEST(Result, DnsFromTheConfig) {
  const json dns = {{"nameservers", {"10.96.0.10"}}, {"search", {"svc.cluster.local"}}};
  EXPECT_EQ(shape_result(kTap, "1.0.0", json(), dns)["dns"], dns);
  EXPECT_FALSE(shape_result(kTap, "1.0.0", json(), json::object()).contains("dns"));
}

TEST(Result, PrevResultIsKeptAndExtended) {
  const json prev = {{"cniVersion", "1.0.0"},
                     {"interfaces", {{{"name", "lo"}, {"sandbox", "/var/run/netns/p"}}}},
                     {"ips", json::array()},
                     {"dns", {{"nameservers", {"1.1.1.1"}}}}};
  const json r = shape_result(kTap, "1.0.0", prev, {{"nameservers", {"9.9.9.9"}}});
  ASSERT_EQ(r["interfaces"].size(), 2u);
  EXPECT_EQ(r["interfaces"][0]["name"], "lo");
  EXPECT_EQ(r["ips"][0]["interface"], 1);
  EXPECT_EQ(r["dns"]["nameservers"][0], "1.1.1.1");
}

TEST(Check, PrevResultMatches) {
  for (const char* v : {"0.4.0", "1.0.0", "1.1.0"})
    EXPECT_EQ(compare_with_prev_result(kTap, shape_result(kTap, v, json(), json())), "") << v;
}

TEST(Check, PrevResultDisagreements) {
  const json good = shape_result(kTap, "1.0.0", json(), json());
  json other_mac = good;
  other_mac["interfaces"][0]["mac"] = "0a:58:0a:f4:00:06";
  EXPECT_NE(compare_with_prev_result(kTap, other_mac).find("has MAC"), std::string::npos);
  json other_ip = good;
  other_ip["ips"][0]["address"] = "10.244.0.6/32";
  EXPECT_NE(compare_with_prev_result(kTap, other_ip).find("does not list address"),
            std::string::npos);
  json other_sandbox = good;
  other_sandbox["interfaces"][0]["sandbox"] = "/var/run/netns/q";
  EXPECT_NE(compare_with_prev_result(kTap, other_sandbox).find("lists no interface"),
            std::string::npos);
  EXPECT_NE(compare_with_prev_result(kTap, json::object()), "");
}

TEST(Version, Answer) {
  const json expected = {{"cniVersion", "1.1.0"},
                         {"supportedVersions", {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}}};
  EXPECT_EQ(version_info(), expected);
}

TEST(Version, Parse) {
  EXPECT_EQ(parse_version("0.4.0"), (Version{0, 4, 0}));
  EXPECT_EQ(parse_version("10.20.30"), (Version{10, 20, 30}));
  for (const char* bad : {"", "1", "1.0", "1.0.0.0", "1.0.x", "v1.0.0", "1.-1.0", " 1.0.0"})
    EXPECT_FALSE(parse_version(bad)) << bad;
  EXPECT_LT(*parse_version("0.3.1"), kCheckSince);
  EXPECT_LT(*parse_version("1.0.0"), kStatusGcSince);
}

TEST(ErrorObject, Shape) {
  const CniError e(Code::try_again_later, "podvsd is down", "details here");
  const json expected = {{"cniVersion", "0.4.0"},
                         {"code", 11},
                         {"msg", "podvsd is down"},
                         {"details", "details here"}};
  EXPECT_EQ(error_json(e, "0.4.0"), expected);
  EXPECT_FALSE(error_json(CniError(Code::invalid_environment, "x"), "1.1.0").contains("details"));
}

TEST(DeviceInfo, ModeIsThePodsSide) {
  const json server = vhost_user_device_info("/s.sock", false);
  EXPECT_EQ(server, json({{"type", "vhost-user"},
                          {"version", "1.1.0"},
                          {"vhost-user", {{"mode", "server"}, {"path", "/s.sock"}}}}));
  EXPECT_EQ(vhost_user_device_info("/s.sock", true)["vhost-user"]["mode"], "client");
}

}  // namespace
}  // namespace podvs::cni
