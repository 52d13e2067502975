// podvs-cni's input: the CNI_* environment, CNI_ARGS and the network configuration, with the
// spec's error code for each way they can be wrong.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cni-shim/cni_env.h"
#include "cni-shim/cni_error.h"
#include "cni-shim/netconf.h"

namespace podvs::cni {
namespace {

Code code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CniError& e) {
    return e.code();
  }
  ADD_FAILURE() << "no CniError thrown";
  return Code::podvsd_refused;
}

Env env_of(std::map<std::string, std::string> vars) {
  return parse_env([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::map<std::string, std::string> add_env() {
  return {{"CNI_COMMAND", "ADD"},
          {"CNI_CONTAINERID", "abc123"},
          {"CNI_NETNS", "/var/run/netns/x"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/opt/cni/bin"}};
}

TEST(CniEnv, AddWithEverything) {
  auto vars = add_env();
  vars["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;FOO=bar";
  const Env env = env_of(vars);
  EXPECT_EQ(env.verb, Verb::add);
  EXPECT_EQ(env.container_id, "abc123");
  EXPECT_EQ(env.args.k8s_namespace, "ns");
  EXPECT_EQ(env.args.k8s_name, "web");
  EXPECT_FALSE(env.args.kind);
}

TEST(CniEnv, MissingOrUnknownCommandIs4) {
  EXPECT_EQ(code_of([] { env_of({}); }), Code::invalid_environment);
  EXPECT_EQ(code_of([] { env_of({{"CNI_COMMAND", "UPDATE"}}); }), Code::invalid_environment);
}

TEST(CniEnv, RequiredVariablesPerVerbAre4) {
  for (const char* missing : {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
    auto vars = add_env();
    vars.erase(missing);
    EXPECT_EQ(code_of([&] { env_of(vars); }), Code::invalid_environment) << missing;
  }
  // DEL may come with an empty netns; GC needs CNI_PATH; STATUS and VERSION need nothing.
  auto del = add_env();
  del["CNI_COMMAND"] = "DEL";
  del.erase("CNI_NETNS");
  EXPECT_EQ(env_of(del).verb, Verb::del);
  EXPECT_EQ(code_of([] { env_of({{"CNI_COMMAND", "GC"}}); }), Code::invalid_environment);
  EXPECT_EQ(env_of({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/opt/cni/bin"}}).verb, Verb::gc);
  EXPECT_EQ(env_of({{"CNI_COMMAND", "STATUS"}}).verb, Verb::status);
  EXPECT_EQ(env_of({{"CNI_COMMAND", "VERSION"}}).verb, Verb::version);
}

TEST(CniEnv, MalformedContainerIdAndIfnameAre4) {
  for (const char* id : {"-abc", "a/b", "a b", ".x"}) {
    auto vars = add_env();
    vars["CNI_CONTAINERID"] = id;
    EXPECT_EQ(code_of([&] { env_of(vars); }), Code::invalid_environment) << id;
  }
  auto long_id = add_env();
  long_id["CNI_CONTAINERID"] = std::string(129, 'a');
  EXPECT_EQ(code_of([&] { env_of(long_id); }), Code::invalid_environment);
  for (const char* name : {"averyveryverylongname", ".", "..", "a/b", "a:b", "a b"}) {
    auto vars = add_env();
    vars["CNI_IFNAME"] = name;
    EXPECT_EQ(code_of([&] { env_of(vars); }), Code::invalid_environment) << name;
  }
}

TEST(CniArgs, UnknownKeysNeedIgnoreUnknown) {
  EXPECT_EQ(code_of([] { parse_cni_args("FOO=bar"); }), Code::invalid_environment);
  EXPECT_EQ(code_of([] { parse_cni_args("FOO=bar;IgnoreUnknown=0"); }), Code::invalid_environment);
  EXPECT_NO_THROW(parse_cni_args("FOO=bar;IgnoreUnknown=true"));
  EXPECT_NO_THROW(parse_cni_args("IgnoreUnknown=1;FOO=bar"));
  EXPECT_EQ(code_of([] { parse_cni_args("novalue"); }), Code::invalid_environment);
  EXPECT_EQ(code_of([] { parse_cni_args("=x"); }), Code::invalid_environment);
}

TEST(CniArgs, PodvsKind) {
  EXPECT_EQ(parse_cni_args("PODVS_KIND=vhost-user").kind, PortKind::vhost_user);
  EXPECT_EQ(parse_cni_args("PODVS_KIND=tap").kind, PortKind::tap);
  EXPECT_EQ(code_of([] { parse_cni_args("PODVS_KIND=sriov"); }), Code::invalid_environment);
  EXPECT_EQ(parse_cni_args("K8S_POD_UID=u;K8S_POD_INFRA_CONTAINER_ID=c").k8s_name, "");
}

constexpr const char* kMinimal = R"({"cniVersion": "1.0.0", "name": "podvs", "type": "podvs-cni"})";

TEST(NetConf, MinimalTakesDefaults) {
  const NetConf conf = parse_netconf(kMinimal);
  EXPECT_EQ(conf.cni_version, "1.0.0");
  EXPECT_EQ(conf.version, (Version{1, 0, 0}));
  EXPECT_EQ(conf.socket, "/run/podvs/podvsd.sock");
  EXPECT_EQ(conf.kind, PortKind::tap);
  EXPECT_FALSE(conf.vhost_server);
  EXPECT_EQ(conf.queues, 1);
  EXPECT_EQ(conf.timeout_seconds, 10);
  EXPECT_TRUE(conf.prev_result.is_null());
  EXPECT_FALSE(conf.has_valid_attachments);
}

TEST(NetConf, PodvsKeysAndRuntimeConfig) {
  const NetConf conf = parse_netconf(R"({"cniVersion": "1.1.0", "name": "n", "type": "t",
      "socket": "/tmp/s.sock", "kind": "vhost-user", "vhostServer": true, "queues": 4,
      "timeoutSeconds": 2.5,
      "logFile": "/tmp/l", "dns": {"nameservers": ["10.96.0.10"]},
      "runtimeConfig": {"CNIDeviceInfoFile": "/run/d.json", "podvsKind": "tap"},
      "prevResult": {"interfaces": []}, "args": {"anything": 1}, "unknownKey": 3})");
  EXPECT_EQ(conf.socket, "/tmp/s.sock");
  EXPECT_EQ(conf.kind, PortKind::vhost_user);
  EXPECT_TRUE(conf.vhost_server);
  EXPECT_EQ(conf.queues, 4);
  EXPECT_EQ(conf.timeout_seconds, 2.5);
  EXPECT_EQ(conf.log_file, "/tmp/l");
  EXPECT_EQ(conf.dns["nameservers"][0], "10.96.0.10");
  EXPECT_EQ(conf.device_info_file, "/run/d.json");
  EXPECT_EQ(conf.runtime_kind, PortKind::tap);
  EXPECT_TRUE(conf.prev_result.is_object());
}

TEST(NetConf, QueuesOutsideOneToSixteenAre7) {
  for (const char* queues : {"0", "17", "2.5", "-1"}) {
    const std::string text =
        std::string(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "queues": )") + queues +
        "}";
    EXPECT_EQ(code_of([&] { parse_netconf(text); }), Code::invalid_network_config) << queues;
  }
  EXPECT_EQ(code_of([] {
              parse_netconf(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "queues": "2"})");
            }),
            Code::decoding_failure);
  EXPECT_EQ(parse_netconf(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "queues": 16})")
                .queues,
            16);
}

TEST(NetConf, NotJsonOrWrongTypeIs6) {
  EXPECT_EQ(code_of([] { parse_netconf("{nope"); }), Code::decoding_failure);
  EXPECT_EQ(code_of([] { parse_netconf(""); }), Code::decoding_failure);
  EXPECT_EQ(code_of([] { parse_netconf("[1]"); }), Code::decoding_failure);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"cniVersion": 1, "name": "n", "type": "t"})"); }),
            Code::decoding_failure);
  EXPECT_EQ(
      code_of([] {
        parse_netconf(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "vhostServer": "yes"})");
      }),
      Code::decoding_failure);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"cniVersion": "1.x", "name": "n", "type": "t"})"); }),
            Code::decoding_failure);
}

TEST(NetConf, UnsupportedVersionIs1) {
  for (const char* v : {"0.1.0", "0.2.0", "1.2.0", "2.0.0"}) {
    const std::string text =
        std::string(R"({"cniVersion": ")") + v + R"(", "name": "n", "type": "t"})";
    EXPECT_EQ(code_of([&] { parse_netconf(text); }), Code::incompatible_version) << v;
  }
  for (const auto v : kSupportedVersions) {
    const std::string text =
        std::string(R"({"cniVersion": ")") + std::string(v) + R"(", "name": "n", "type": "t"})";
    EXPECT_EQ(parse_netconf(text).cni_version, v);
  }
}

TEST(NetConf, InvalidValuesAre7) {
  for (
      const char* text : {
          R"({"name": "n", "type": "t"})",
          R"({"cniVersion": "1.0.0", "type": "t"})",
          R"({"cniVersion": "1.0.0", "name": "-bad", "type": "t"})",
          R"({"cniVersion": "1.0.0", "name": "n"})",
          R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "kind": "sriov"})",
          R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "timeoutSeconds": 0})",
          R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "timeoutSeconds": 301})",
          R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "runtimeConfig": {"podvsKind": "x"}})",
      })
    EXPECT_EQ(code_of([&] { parse_netconf(text); }), Code::invalid_network_config) << text;
  const std::string long_socket =
      R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "socket": "/)" + std::string(120, 's') +
      R"("})";
  EXPECT_EQ(code_of([&] { parse_netconf(long_socket); }), Code::invalid_network_config);
}

TEST(NetConf, IpamIsUnsupportedField2NamingIt) {
  try {
    parse_netconf(
        R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "ipam": {"type": "host-local"}})");
    FAIL() << "ipam accepted";
  } catch (const CniError& e) {
    EXPECT_EQ(e.code(), Code::unsupported_field);
    EXPECT_NE(std::string(e.what()).find("\"ipam\": {\"type\":\"host-local\"}"), std::string::npos)
        << e.what();
  }
  // An empty ipam section asks for nothing.
  EXPECT_NO_THROW(
      parse_netconf(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "ipam": {}})"));
}

TEST(GcAttachments, BothKeysAreMergedWithoutDuplicates) {
  const NetConf conf = parse_netconf(R"({"cniVersion": "1.1.0", "name": "n", "type": "t",
      "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"},
                                    {"containerID": "b", "ifname": "eth0"}],
      "cni.dev/attachments": [{"containerID": "a", "ifname": "eth0"},
                              {"containerID": "c", "ifname": "net1"}]})");
  EXPECT_TRUE(conf.has_valid_attachments);
  const std::vector<GcAttachment> expected = {{"a", "eth0"}, {"b", "eth0"}, {"c", "net1"}};
  EXPECT_EQ(conf.valid_attachments, expected);
}

TEST(GcAttachments, EmptyListIsPresent) {
  const NetConf conf = parse_netconf(
      R"({"cniVersion": "1.1.0", "name": "n", "type": "t", "cni.dev/valid-attachments": []})");
  EXPECT_TRUE(conf.has_valid_attachments);
  EXPECT_TRUE(conf.valid_attachments.empty());
}

TEST(GcAttachments, MalformedEntriesAre6) {
  for (const char* list : {R"("x")", R"(["a"])", R"([{"ifname": "eth0"}])",
                           R"([{"containerID": 5, "ifname": "eth0"}])"}) {
    const std::string text =
        std::string(
            R"({"cniVersion": "1.1.0", "name": "n", "type": "t", "cni.dev/valid-attachments": )") +
        list + "}";
    EXPECT_EQ(code_of([&] { parse_netconf(text); }), Code::decoding_failure) << list;
  }
}

TEST(ErrorVersion, UsesTheConfigsVersionWhenSupported) {
  EXPECT_EQ(error_version(R"({"cniVersion": "0.4.0"})"), "0.4.0");
  EXPECT_EQ(error_version(R"({"cniVersion": "0.2.0"})"), "1.1.0");
  EXPECT_EQ(error_version("garbage"), "1.1.0");
}

}  // namespace
}  // namespace podvs::cni
