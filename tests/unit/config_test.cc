#include "control/daemon/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace podvs {
namespace {

struct Outcome {
  ParsedCommandLine parsed;
  std::string out;
  std::string err;
};

Outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "podvsd");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  Outcome result;
  result.parsed = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::string config_error(const std::string& yaml) {
  try {
    config_from_yaml(yaml, Config{});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string validate_error(Config config) {
  fill_cpu_defaults(config);
  try {
    validate(config);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ConfigFile {
 public:
  explicit ConfigFile(const std::string& yaml) {
    char pattern[] = "/tmp/podvs-config-test-XXXXXX";
    const int fd = mkstemp(pattern);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = pattern;
    std::ofstream(path_) << yaml;
  }
  ~ConfigFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

unsigned online_cpus() { return std::thread::hardware_concurrency(); }

TEST(Config, DefaultsWithoutArguments) {
  Outcome r = parse({});
  ASSERT_TRUE(r.parsed.config) << r.err;
  EXPECT_FALSE(r.parsed.exit_code);
  const Config& c = *r.parsed.config;
  EXPECT_EQ(c.pod_cidr.str(), "10.244.0.0/24");
  EXPECT_EQ(c.worker_cpus, std::vector<unsigned>{online_cpus() - 1});
  if (online_cpus() > 1) {
    EXPECT_EQ(c.main_cpu, 0u);
  }
  EXPECT_EQ(c.socket, "/run/podvs/podvsd.sock");
  EXPECT_EQ(c.state_dir, "/var/lib/podvs");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9477");
  EXPECT_EQ(c.file_prefix, "podvs");
  EXPECT_EQ(c.host_port, "podvs0");
  EXPECT_EQ(c.vhost_dir, "/run/podvs/vhost");
  EXPECT_EQ(c.mtu, 1500u);
  EXPECT_EQ(ipv4_str(c.gateway_ip), "169.254.1.1");
  EXPECT_EQ(c.mbufs, 16383u);
  EXPECT_EQ(c.flow_cache_entries, 8192u);
  EXPECT_EQ(c.idle_backoff_polls, 0u);
  EXPECT_EQ(c.idle_backoff_us, 200u);
  EXPECT_FALSE(c.vhost_server);
  EXPECT_FALSE(c.no_huge);
  EXPECT_TRUE(c.eal_args.empty());
  EXPECT_EQ(c.log_level, "info");
}

TEST(Config, EmbeddedDefaultsMatchTheStructAndSetEveryKey) {
  EXPECT_EQ(config_from_yaml(kDefaultConfigYaml, Config{}), Config{});
  Config changed;
  changed.worker_cpus = {1};
  changed.main_cpu = 0;
  changed.mtu = 9000;
  changed.eal_args = {"--no-pci"};
  changed.no_huge = true;
  EXPECT_EQ(config_from_yaml(kDefaultConfigYaml, changed), Config{});
}

TEST(Config, YamlFileOverridesDefaults) {
  ConfigFile file(
      "pod_cidr: 10.1.2.0/26\n"
      "workers: [0]\n"
      "mtu: 9000\n"
      "no_huge: true\n"
      "metrics_listen: \"\"\n"
      "eal_args: [--no-pci, --log-level=debug]\n"
      "log_level: debug\n");
  Outcome r = parse({"--config", file.path()});
  ASSERT_TRUE(r.parsed.config) << r.err;
  const Config& c = *r.parsed.config;
  EXPECT_EQ(c.pod_cidr.str(), "10.1.2.0/26");
  EXPECT_EQ(c.worker_cpus, std::vector<unsigned>{0});
  if (online_cpus() > 1) {
    EXPECT_EQ(c.main_cpu, 1u);
  }
  EXPECT_EQ(c.mtu, 9000u);
  EXPECT_TRUE(c.no_huge);
  EXPECT_EQ(c.metrics_listen, "");
  EXPECT_EQ(c.eal_args, (std::vector<std::string>{"--no-pci", "--log-level=debug"}));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.socket, "/run/podvs/podvsd.sock");  // untouched keys keep their defaults
}

TEST(Config, FlagsOverrideTheYamlFile) {
  ConfigFile file("mtu: 9000\nfile_prefix: fromfile\nhost_port: tapfile\nno_huge: true\n");
  Outcome r =
      parse({"--config", file.path(), "--mtu", "1400", "--file-prefix=second", "--no-huge=false",
             "--vhost-server", "--workers", "0", "--eal-args=--no-pci -l 0", "--gateway-ip",
             "169.254.9.9", "--flow-cache-entries", "1024"});
  ASSERT_TRUE(r.parsed.config) << r.err;
  const Config& c = *r.parsed.config;
  EXPECT_EQ(c.mtu, 1400u);
  EXPECT_EQ(c.file_prefix, "second");
  EXPECT_EQ(c.host_port, "tapfile");
  EXPECT_FALSE(c.no_huge);
  EXPECT_TRUE(c.vhost_server);
  EXPECT_EQ(c.worker_cpus, std::vector<unsigned>{0});
  EXPECT_EQ(c.eal_args, (std::vector<std::string>{"--no-pci", "-l", "0"}));
  EXPECT_EQ(ipv4_str(c.gateway_ip), "169.254.9.9");
  EXPECT_EQ(c.flow_cache_entries, 1024u);
}

TEST(Config, WorkersAcceptListsAndCommaStrings) {
  EXPECT_EQ(config_from_yaml("workers: [2, 3]", Config{}).worker_cpus,
            (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(config_from_yaml("workers: \"2,3\"", Config{}).worker_cpus,
            (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(config_from_yaml("workers: 2, 3", Config{}).worker_cpus, (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(config_from_yaml("workers: 1", Config{}).worker_cpus, std::vector<unsigned>{1});
  EXPECT_TRUE(contains(config_error("workers: [a]"), "workers"));
}

TEST(Config, UnknownKeyIsNamed) {
  const std::string error = config_error("pod_cidr: 10.0.0.0/24\nmtus: 1500\nworkerz: [1]\n");
  EXPECT_TRUE(contains(error, "'mtus'")) << error;
  EXPECT_TRUE(contains(error, "'workerz'")) << error;
  EXPECT_TRUE(contains(config_error("pod-cidr: 10.0.0.0/24"), "pod_cidr"));
  ConfigFile file("typo_key: 1\n");
  Outcome r = parse({"--config", file.path()});
  EXPECT_EQ(r.parsed.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "typo_key")) << r.err;
  EXPECT_TRUE(contains(r.err, file.path())) << r.err;
}

TEST(Config, CidrWithHostBitsIsRejectedNamingTheValue) {
  const std::string error = config_error("pod_cidr: 10.244.0.1/24");
  EXPECT_TRUE(contains(error, "10.244.0.1/24")) << error;
  EXPECT_TRUE(contains(error, "10.244.0.0/24")) << error;
  Outcome r = parse({"--pod-cidr", "10.244.0.1/24"});
  EXPECT_EQ(r.parsed.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--pod-cidr")) << r.err;
  EXPECT_TRUE(contains(r.err, "10.244.0.1/24")) << r.err;
  EXPECT_TRUE(contains(config_error("pod_cidr: banana"), "banana"));
}

// The checks podvsd also runs on a pod CIDR set over the API or found in its saved state.
TEST(Config, PodCidrParsingAndItsFitWithTheRestOfTheConfig) {
  EXPECT_EQ(parse_pod_cidr("10.244.3.0/24"), *Ipv4Prefix::parse("10.244.3.0/24"));
  auto parse_error = [](const std::string& text) {
    try {
      parse_pod_cidr(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(parse_error("10.244.3.1/24"),
            "'10.244.3.1/24' has host bits set; the network is "
            "10.244.3.0/24");
  EXPECT_EQ(parse_error("10.244.3.0"), "'10.244.3.0' is not an IPv4 network such as 10.244.0.0/24");

  auto fit_error = [](const std::string& cidr, const std::string& yaml) {
    Config c = config_from_yaml(yaml, Config{});
    c.pod_cidr = *Ipv4Prefix::parse(cidr);
    try {
      validate_pod_cidr(c);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(fit_error("10.244.3.0/24", "cluster_cidr: 10.244.0.0/16\n"), "no error");
  EXPECT_EQ(fit_error("10.245.3.0/24", "cluster_cidr: 10.244.0.0/16\n"),
            "pod_cidr 10.245.3.0/24 is not inside cluster_cidr 10.244.0.0/16");
  EXPECT_EQ(fit_error("10.0.0.0/8", "cluster_cidr: 10.244.0.0/16\n"),
            "pod_cidr 10.0.0.0/8 is not inside cluster_cidr 10.244.0.0/16");
  EXPECT_EQ(fit_error("10.244.3.0/31", ""),
            "pod_cidr 10.244.3.0/31 is not supported; use a prefix length from /8 to /30");
  EXPECT_EQ(fit_error("169.254.0.0/16", ""),
            "gateway_ip 169.254.1.1 lies inside pod_cidr 169.254.0.0/16; use an address outside "
            "it such as 169.254.1.1");
  EXPECT_EQ(fit_error("192.168.1.0/24", "uplink_interface: eth1\nnode_ip: 192.168.1.10/24\n"),
            "node_ip 192.168.1.10 lies inside pod_cidr 192.168.1.0/24; the underlay needs its own "
            "addresses");
  EXPECT_EQ(fit_error("192.168.1.0/24", "node_ip: 192.168.1.10/24\n"), "no error");  // no uplink
}

TEST(Config, LongSocketPathIsRejectedMentioning108) {
  Outcome r = parse({"--socket", "/" + std::string(119, 's')});
  EXPECT_EQ(r.parsed.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "108")) << r.err;
  EXPECT_FALSE(r.parsed.config);
}

TEST(Config, ValidateRejectsValuesOutOfRange) {
  Config c;
  c.pod_cidr = *Ipv4Prefix::parse("10.0.0.0/31");
  EXPECT_TRUE(contains(validate_error(c), "pod_cidr")) << validate_error(c);
  c = Config{};
  c.gateway_ip = *parse_ipv4("10.244.0.1");
  EXPECT_TRUE(contains(validate_error(c), "gateway_ip")) << validate_error(c);
  c = Config{};
  c.worker_cpus = {online_cpus()};
  EXPECT_TRUE(contains(validate_error(c), "does not exist")) << validate_error(c);
  c.worker_cpus = {0, 0};
  EXPECT_TRUE(contains(validate_error(c), "twice")) << validate_error(c);
  c.idle_backoff_polls = 100;
  c.main_cpu = online_cpus() - 1;
  EXPECT_EQ(validate_error(c), "no error") << "workers taking turns may share a CPU";
  c.idle_backoff_polls = 0;
  c.main_cpu.reset();
  c.worker_cpus = {0};
  c.main_cpu = 0;
  EXPECT_TRUE(contains(validate_error(c), "main_cpu")) << validate_error(c);
  c = Config{};
  c.host_port = "a-very-long-name";
  EXPECT_TRUE(contains(validate_error(c), "host_port")) << validate_error(c);
  c.host_port = "";
  EXPECT_TRUE(contains(validate_error(c), "host_port")) << validate_error(c);
  c = Config{};
  c.mtu = 575;
  EXPECT_TRUE(contains(validate_error(c), "mtu 575")) << validate_error(c);
  c.mtu = 9001;
  EXPECT_TRUE(contains(validate_error(c), "mtu 9001")) << validate_error(c);
  c = Config{};
  for (uint32_t bad : {1000u, 128u, 1u << 21}) {
    c.flow_cache_entries = bad;
    EXPECT_TRUE(contains(validate_error(c), "flow_cache_entries")) << validate_error(c);
  }
  c = Config{};
  for (const char* bad : {"9477", "localhost:", ":9477", "host:99999"}) {
    c.metrics_listen = bad;
    EXPECT_TRUE(contains(validate_error(c), "metrics_listen")) << bad;
  }
  c.metrics_listen = "[::1]:9477";
  EXPECT_EQ(validate_error(c), "no error");
  c = Config{};
  c.log_level = "verbose";
  EXPECT_TRUE(contains(validate_error(c), "verbose")) << validate_error(c);
  EXPECT_EQ(validate_error(Config{}), "no error");
}

TEST(Config, MaxPodsDefaultRangeAndFlag) {
  EXPECT_EQ(Config{}.max_pods, 250u);
  Config c;
  for (uint32_t bad : {0u, 16385u}) {
    c.max_pods = bad;
    EXPECT_TRUE(contains(validate_error(c), "max_pods " + std::to_string(bad)))
        << validate_error(c);
  }
  c.max_pods = 16384;
  EXPECT_EQ(validate_error(c), "no error");
  EXPECT_TRUE(contains(config_error("max_pods: many\n"), "max_pods")) << config_error("max_pods: many\n");
}

TEST(Config, TapQueuesDefaultToOneAndStopAtSixteen) {
  EXPECT_EQ(Config{}.tap_queues, 1u);
  Config c;
  c.tap_queues = 17;
  EXPECT_TRUE(contains(validate_error(c), "tap_queues 17 is out of range")) << validate_error(c);
  c.tap_queues = 16;
  EXPECT_EQ(validate_error(c), "no error");
  EXPECT_EQ(config_from_yaml("tap_queues: 1\n", Config{}).tap_queues, 1u);
}

TEST(PodAdmission, TheLimitIsMaxPodsOrThePodCidrWhicheverIsSmaller) {
  Config c;  // 10.244.0.0/24: 254 usable, one for the host port
  const PodLimit by_pods = pod_limit(c, 253);
  EXPECT_EQ(by_pods.limit, 250u);
  EXPECT_EQ(by_pods.bound, "max_pods");
  const std::string full = pod_limit_error(c, by_pods, 250);
  EXPECT_TRUE(contains(full, "250 pods attached")) << full;
  EXPECT_TRUE(contains(full, "(max_pods)")) << full;
  EXPECT_FALSE(contains(full, "pod_cidr")) << full;

  c.max_pods = 1000;
  const PodLimit by_cidr = pod_limit(c, 253);
  EXPECT_EQ(by_cidr.limit, 253u);
  EXPECT_EQ(by_cidr.bound, "pod_cidr");
  const std::string cidr_full = pod_limit_error(c, by_cidr, 253);
  EXPECT_TRUE(contains(cidr_full, "pod_cidr 10.244.0.0/24")) << cidr_full;
  EXPECT_TRUE(contains(cidr_full, "below max_pods 1000")) << cidr_full;

  c.max_pods = 253;  // equal: max_pods is the bound named
  EXPECT_EQ(pod_limit(c, 253).bound, "max_pods");
  EXPECT_EQ(pod_limit(c, 252).bound, "pod_cidr");
  EXPECT_EQ(pod_limit(c, 252).limit, 252u);
}

TEST(Config, BadValuesNameTheKeyAndLine) {
  const std::string error = config_error("mtu: 1500\nmbufs: lots\n");
  EXPECT_TRUE(contains(error, "mbufs (line 2)")) << error;
  EXPECT_TRUE(contains(error, "lots")) << error;
  EXPECT_TRUE(contains(config_error("no_huge: maybe"), "maybe"));
  EXPECT_TRUE(contains(config_error("mtu: [1]"), "mtu"));
  EXPECT_TRUE(contains(config_error("mtu: 99999999999"), "too large"));
  EXPECT_TRUE(contains(config_error("[1, 2]"), "mapping"));
  EXPECT_TRUE(contains(config_error("mtu: [1"), "line"));
}

TEST(Config, HelpMentionsEveryFlagAndDefault) {
  Outcome r = parse({"--help"});
  EXPECT_EQ(r.parsed.exit_code, 0);
  EXPECT_FALSE(r.parsed.config);
  for (const char* flag : {"--config",
                           "--pod-cidr",
                           "--workers",
                           "--main-cpu",
                           "--socket",
                           "--state-dir",
                           "--metrics-listen",
                           "--file-prefix",
                           "--host-port",
                           "--vhost-dir",
                           "--mtu",
                           "--gateway-ip",
                           "--mbufs",
                           "--flow-cache-entries",
                           "--idle-backoff-polls",
                           "--idle-backoff-us",
                           "--vhost-server",
                           "--no-huge",
                           "--eal-args",
                           "--log-level",
                           "--print-default-config",
                           "--check-config",
                           "--version"}) {
    EXPECT_TRUE(contains(r.out, flag)) << flag;
  }
  EXPECT_TRUE(contains(r.out, "(default: 10.244.0.0/24)")) << r.out;
  EXPECT_TRUE(contains(r.out, "(default: the last online CPU)")) << r.out;
}

TEST(Config, PrintDefaultConfigParsesBackToTheDefaults) {
  Outcome r = parse({"--print-default-config"});
  EXPECT_EQ(r.parsed.exit_code, 0);
  EXPECT_EQ(r.out, kDefaultConfigYaml);
  Config changed;
  changed.mtu = 1234;
  EXPECT_EQ(config_from_yaml(r.out, changed), Config{});
}

TEST(Config, CheckConfigGivesTheVerdictWithoutStarting) {
  Outcome good = parse({"--check-config", "--mtu", "1400"});
  EXPECT_EQ(good.parsed.exit_code, 0);
  EXPECT_FALSE(good.parsed.config);
  EXPECT_TRUE(contains(good.out, "valid")) << good.out;
  Outcome bad = parse({"--check-config", "--mtu", "70000"});
  EXPECT_EQ(bad.parsed.exit_code, 2);
  EXPECT_FALSE(bad.parsed.config);
  EXPECT_TRUE(contains(bad.err, "mtu")) << bad.err;
}

TEST(Config, VersionAndUsageErrors) {
  Outcome version = parse({"--version"});
  EXPECT_EQ(version.parsed.exit_code, 0);
  EXPECT_TRUE(contains(version.out, "podvsd ")) << version.out;
  Outcome unknown = parse({"--no-such-flag"});
  EXPECT_EQ(unknown.parsed.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "--no-such-flag")) << unknown.err;
  Outcome missing = parse({"--config", "/nonexistent/podvs.yaml"});
  EXPECT_EQ(missing.parsed.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "/nonexistent/podvs.yaml")) << missing.err;
}

}  // namespace
}  // namespace podvs

namespace podvs {
namespace {

Config overlay_config(const std::string& extra) {
  Config c =
      config_from_yaml("uplink_interface: eth1\nnode_ip: 192.168.1.10/24\n" + extra, Config{});
  fill_cpu_defaults(c);
  return c;
}

TEST(ConfigOverlay, UplinkNodeIpAndDerivedValues) {
  Config c = overlay_config("cluster_cidr: 10.244.0.0/16\nflannel_compat: true\n");
  EXPECT_NO_THROW(validate(c));
  EXPECT_TRUE(c.overlay_enabled());
  EXPECT_EQ(c.node_ip, 0xc0a8010au);
  EXPECT_EQ(c.node_prefix_length, 24);
  EXPECT_EQ(c.effective_vxlan_port(), 8472);
  EXPECT_EQ(c.pod_mtu(), 1450u);  // uplink 1500 minus VXLAN's 50
  EXPECT_EQ(c.cluster_cidr->str(), "10.244.0.0/16");
  EXPECT_EQ(overlay_config("vxlan_port: 4790\nflannel_compat: true\n").effective_vxlan_port(),
            4790);
  EXPECT_EQ(Config{}.pod_mtu(), 1500u);  // no overlay: the configured MTU
}

TEST(ConfigOverlay, BadOverlaySettingsNameTheKey) {
  auto error = [](const std::string& yaml) {
    try {
      validate(overlay_config(yaml));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("cluster_cidr: 10.245.0.0/16\n").find("not inside cluster_cidr"),
            std::string::npos);
  EXPECT_NE(error("vxlan_vni: 0\n").find("vxlan_vni 0"), std::string::npos);
  EXPECT_NE(error("uplink_mtu: 600\n").find("uplink_mtu 600"), std::string::npos);
  EXPECT_NE(error("node_ip: 10.244.0.5/24\n").find("inside pod_cidr"), std::string::npos);
  EXPECT_THROW(overlay_config("node_ip: 192.168.1.10\n"), ConfigError);  // no subnet length
  Config no_ip = config_from_yaml("uplink_interface: eth1\n", Config{});
  fill_cpu_defaults(no_ip);
  EXPECT_THROW(validate(no_ip), ConfigError);
}

TEST(ConfigOverlay, VhostUserUplinkIsTheOnlyUplink) {
  Config c = config_from_yaml(
      "uplink_vhost_socket: /run/podvs/uplink.sock\nnode_ip: 192.168.1.10/24\n", Config{});
  fill_cpu_defaults(c);
  EXPECT_NO_THROW(validate(c));
  EXPECT_TRUE(c.overlay_enabled());
  EXPECT_EQ(c.pod_mtu(), 1450u);
  auto error = [](const std::string& yaml) {
    try {
      Config bad = config_from_yaml(yaml + "node_ip: 192.168.1.10/24\n", Config{});
      fill_cpu_defaults(bad);
      validate(bad);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("uplink_vhost_socket: /u.sock\nuplink_interface: eth1\n"),
            "uplink_vhost_socket '/u.sock' names a second uplink; set only one of "
            "uplink_interface, uplink_device and uplink_vhost_socket");
  EXPECT_NE(error("uplink_vhost_socket: /u.sock\nuplink_device: 0000:01:00.0\n")
                .find("names a second uplink"),
            std::string::npos);
  EXPECT_NE(error("uplink_vhost_socket: /" + std::string(107, 'x') + "\n")
                .find("is 108 bytes; a unix socket path needs 1 to 107 bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace podvs

namespace podvs {
namespace {

TEST(ConfigServiceCidr, OffByDefaultAndANetworkWhenSet) {
  EXPECT_FALSE(config_from_yaml("", Config{}).service_cidr);
  const Config c = config_from_yaml("service_cidr: 10.96.0.0/12\n", Config{});
  ASSERT_TRUE(c.service_cidr);
  EXPECT_EQ(c.service_cidr->str(), "10.96.0.0/12");
  EXPECT_FALSE(config_from_yaml("service_cidr: \"\"\n", c).service_cidr);
  try {
    config_from_yaml("service_cidr: 10.96.0.1/12\n", Config{});
    ADD_FAILURE() << "host bits accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("has host bits set; the network is 10.96.0.0/12"),
              std::string::npos)
        << e.what();
  }
}

TEST(ConfigServiceCidr, MustStayClearOfThePodNetworkAndTheNode) {
  auto error = [](const std::string& yaml) {
    Config c = config_from_yaml(yaml, Config{});
    try {
      validate_pod_cidr(c);
      validate_service_cidr(c);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("service_cidr: 10.96.0.0/12\n"), "no error");
  EXPECT_EQ(error("service_cidr: 10.0.0.0/8\n"),
            "pod_cidr 10.244.0.0/24 overlaps service_cidr 10.0.0.0/8; Services and pods need "
            "separate networks");
  EXPECT_EQ(error("service_cidr: 10.96.0.0/12\ncluster_cidr: 10.96.0.0/16\npod_cidr: "
                  "10.96.1.0/24\n"),
            "pod_cidr 10.96.1.0/24 overlaps service_cidr 10.96.0.0/12; Services and pods need "
            "separate networks");
  EXPECT_EQ(error("service_cidr: 10.96.0.0/12\ncluster_cidr: 10.64.0.0/10\npod_cidr: "
                  "10.64.1.0/24\n"),
            "service_cidr 10.96.0.0/12 overlaps cluster_cidr 10.64.0.0/10; Services and pods "
            "need separate networks");
  EXPECT_EQ(error("service_cidr: 169.254.0.0/16\n"),
            "gateway_ip 169.254.1.1 lies inside service_cidr 169.254.0.0/16");
  EXPECT_EQ(error("service_cidr: 128.0.0.0/1\n"),
            "service_cidr 128.0.0.0/1 is not supported; use /8 to /30");
  EXPECT_EQ(error("service_cidr: 192.168.1.0/24\nuplink_interface: eth1\nnode_ip: "
                  "192.168.1.10/24\n"),
            "node_ip 192.168.1.10 lies inside service_cidr 192.168.1.0/24");
}

}  // namespace
}  // namespace podvs
