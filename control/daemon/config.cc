#include "control/daemon/config.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "ports/port_id.h"
#include "vswitch/services/maglev_size.h"

namespace podvs {

const char* const kDefaultConfigYaml =
    R"(# podvsd configuration. Every key may be left out; the value below is then used.
# Each key is also a flag with dashes instead of underscores (pod_cidr: --pod-cidr), and a flag
# given on the command line overrides this file.

# This node's pod CIDR: every pod gets one address from it (/8 to /30). Once podvsd has saved
# state, the CIDR saved there wins: SetPodCidr may have changed it, and pods' addresses are from it.
pod_cidr: 10.244.0.0/24
# CPUs of the poll-mode workers, as a list or a comma string ("2,3"). [] = the last online CPU.
workers: []
# CPU of the control thread (DPDK main lcore), not a worker. ~ = the first CPU that is not a worker.
main_cpu: ~
# Unix socket of the gRPC API (podvs-cni, podvsctl); the path must be shorter than 108 bytes.
socket: /run/podvs/podvsd.sock
# Where the pods, their addresses and ports are kept across restarts.
state_dir: /var/lib/podvs
# host:port of the Prometheus endpoint; "" disables it.
metrics_listen: 127.0.0.1:9477
# DPDK --file-prefix: two podvsd on one machine need different ones.
file_prefix: podvs
# Name of the tap in the host namespace through which the node reaches pods (1 to 15 characters).
host_port: podvs0
# Each DPDK pod's vhost-user socket lives in its own directory below this one.
vhost_dir: /run/podvs/vhost
# MTU of pod interfaces and the host port (576 to 9000).
mtu: 1500
# Pods' default gateway; podvsd answers ARP for it. Must lie outside pod_cidr.
gateway_ip: 169.254.1.1
# Packet buffers in the mbuf pool; DPDK pools use memory best at a power of two minus one.
mbufs: 16383
# Flow cache entries per worker: a power of two from 256 to 1048576.
flow_cache_entries: 8192
# Port capacity: every port (pods, the host port, the uplink) takes one of these ids, and
# workers size their per-port counters by it (about 400 bytes per port and worker); 8 to 16384.
max_ports: 1024
# Pods this node takes (1 to 16384; Kubernetes' --max-pods). The pod CIDR bounds it as well: a /24
# has 253 addresses for pods, so a larger max_pods needs a larger pod_cidr.
max_pods: 250
# Most queues of a kernel pod's tap, 1 to 16; 0 = one per worker. Each queue is polled by a
# worker; the taps' large buffer pool bounds it too (2 with the default max_pods). More than one
# makes the tap multi-queue, and the kernel gives such a tap 256 transmit queues with a qdisc
# each: about 6 MB of kernel memory per pod and a slower attach, so one is the default.
tap_queues: 1
# A worker sleeps after this many polls in a row found no packet; 0 = never sleep (lowest latency).
idle_backoff_polls: 0
# How long such a sleep lasts, in microseconds.
idle_backoff_us: 200
# Default vhost-user mode of new DPDK pods: false = the pod listens and podvsd connects (and
# reconnects when the pod restarts); true = podvsd listens.
vhost_server: false
# Run DPDK without hugepages (tests, tiny machines); slower.
no_huge: false
# Extra DPDK EAL arguments, appended verbatim (a list, or one string split on spaces).
eal_args: []
# error, warning, info or debug.
log_level: info
# The cluster's Service network (Kubernetes' --service-cluster-ip-range), e.g. 10.96.0.0/12: podvsd
# routes it to the host port so the node's own stack (kubelet, host-network pods) reaches
# ClusterIPs without kube-proxy, and every ClusterIP must lie in it. "" = no route, any ClusterIP.
service_cidr: ""

# The VXLAN overlay between nodes: off while no uplink is set (uplink_interface, uplink_device or
# uplink_vhost_socket).
# The cluster's pod network (all nodes' pod CIDRs), e.g. 10.244.0.0/16: an address in it that no
# node owns is dropped (no_route) instead of leaving through the host port. "" = not known.
cluster_cidr: ""
# Kernel interface podvsd opens with DPDK's net_af_packet as the node's uplink (its MAC is used).
uplink_interface: ""
# Or the uplink as DPDK device arguments (a NIC's PCI address); overrides uplink_interface.
uplink_device: ""
# Or the uplink as a vhost-user port: podvsd connects to this socket (and reconnects), served by
# the underlay's user-space switch or a DPDK virtio-user process. Its MAC is 0a:58 and node_ip's
# four bytes; it offers no offloads. Not together with uplink_interface or uplink_device.
uplink_vhost_socket: ""
# This node's address and subnet on the underlay, e.g. 192.168.1.10/24 (podvsd answers ARP for it).
node_ip: ""
# Underlay next hop for node IPs outside node_ip's subnet; "" = all nodes are on that subnet.
uplink_gateway: ""
# MTU of the uplink; pods get uplink_mtu - 50 (the VXLAN overhead) when it is lower than mtu.
uplink_mtu: 1500
# VXLAN UDP port; 0 = 4789 (IANA), or 8472 with flannel_compat.
vxlan_port: 0
# VXLAN network identifier (flannel uses 1).
vxlan_vni: 1
# Compute the outer UDP checksum instead of sending 0 (RFC 7348 allows 0).
vxlan_udp_checksum: false
# Interoperate with flannel's kernel VXLAN backend: port 8472 unless vxlan_port says otherwise.
flannel_compat: false
# Pods' traffic to outside cluster_cidr leaves the uplink through uplink_gateway with the node IP
# as source (connection tracked, replies translated back). Needs an uplink, cluster_cidr and
# uplink_gateway.
masquerade: true
# Destinations that are not masqueraded: traffic to them leaves through the host port.
no_masquerade_cidrs: []
# Connections tracked per worker, for masquerade and Services (a power of two is not required);
# 0 turns both off.
conntrack_entries: 65536
# Slots of each Service port's Maglev table: a prime, the same on every node (so that a flow picks
# the same endpoint whichever node balances it), well above the endpoints of the largest Service
# (about 100 slots per endpoint keeps them within ~1% of an even share).
maglev_table_size: 4099
)";

namespace {

// The sun_path field of sockaddr_un, terminating NUL included.
constexpr size_t kUnixPathMax = 108;
// IFNAMSIZ minus the terminating NUL.
constexpr size_t kInterfaceNameMax = 15;
// IPv4's minimum datagram size every host must accept; 9000 is the usual jumbo-frame limit.
constexpr uint32_t kMinMtu = 576;
constexpr uint32_t kMaxMtu = 9000;
// Below 256 entries most flows would miss; above 2^20 each worker's cache costs tens of MB.
constexpr uint32_t kMinFlowCache = 256;
// The host port, the uplink and a few pods: below that a capacity is a typo.
constexpr uint32_t kMinPortCapacity = 8;
constexpr uint32_t kMaxFlowCache = 1u << 20;
constexpr uint32_t kMaxPods = 16384;
// IPAM's limits: below /8 its bitmap would be needlessly large, beyond /30 no address is left.
constexpr uint8_t kShortestPodPrefix = 8;
constexpr uint8_t kLongestPodPrefix = 30;
constexpr std::array kLogLevels = {"error", "warning", "info", "debug"};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string scalar(const YAML::Node& node) {
  if (node.IsNull()) throw ConfigError("needs a value");
  if (!node.IsScalar()) throw ConfigError("must be a single value, not a list or a mapping");
  return node.Scalar();
}

uint32_t parse_u32(const std::string& text) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) throw ConfigError(quoted(text) + " is too large");
  if (ec != std::errc{} || ptr != end || text.empty())
    throw ConfigError(quoted(text) + " is not a non-negative integer");
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) {
    // "2, 3" is as natural to write as "2,3".
    const size_t first = part.find_first_not_of(' ');
    if (first != std::string::npos)
      parts.push_back(part.substr(first, part.find_last_not_of(' ') + 1 - first));
  }
  return parts;
}

// A list, a single value or a string split on `separator`; null means empty.
std::vector<std::string> items(const YAML::Node& node, char separator) {
  if (node.IsNull()) return {};
  if (node.IsScalar()) return split(node.Scalar(), separator);
  if (!node.IsSequence()) throw ConfigError("must be a list or a string, not a mapping");
  std::vector<std::string> values;
  for (const YAML::Node& item : node) values.push_back(scalar(item));
  return values;
}

Ipv4Prefix network_from_text(const std::string& text) {
  if (auto prefix = Ipv4Prefix::parse(text)) return *prefix;
  // Ipv4Prefix::parse also rejects host bits; tell that mistake apart and name the network meant.
  const size_t slash = text.find('/');
  const auto ip = parse_ipv4(text.substr(0, slash));
  unsigned length = 0;
  const char* end = text.data() + text.size();
  if (ip && slash != std::string::npos) {
    auto [ptr, ec] = std::from_chars(text.data() + slash + 1, end, length);
    if (ec == std::errc{} && ptr == end && length <= 32) {
      Ipv4Prefix network{0, static_cast<uint8_t>(length)};
      network.network = *ip & network.mask();
      throw ConfigError(quoted(text) + " has host bits set; the network is " + network.str());
    }
  }
  throw ConfigError(quoted(text) + " is not an IPv4 network such as 10.244.0.0/24");
}

void set_pod_cidr(Config& config, const YAML::Node& node) {
  config.pod_cidr = network_from_text(scalar(node));
}

void set_workers(Config& config, const YAML::Node& node) {
  config.worker_cpus.clear();
  for (const std::string& cpu : items(node, ',')) config.worker_cpus.push_back(parse_u32(cpu));
}

void set_main_cpu(Config& config, const YAML::Node& node) {
  config.main_cpu.reset();
  if (!node.IsNull()) config.main_cpu = parse_u32(scalar(node));
}

void set_gateway_ip(Config& config, const YAML::Node& node) {
  const std::string text = scalar(node);
  auto ip = parse_ipv4(text);
  if (!ip) throw ConfigError(quoted(text) + " is not an IPv4 address");
  config.gateway_ip = *ip;
}

void set_eal_args(Config& config, const YAML::Node& node) { config.eal_args = items(node, ' '); }

void set_node_ip(Config& config, const YAML::Node& node) {
  const std::string text = node.IsNull() ? "" : scalar(node);
  config.node_ip = 0;
  config.node_prefix_length = 0;
  if (text.empty()) return;
  const size_t slash = text.find('/');
  const auto ip = parse_ipv4(text.substr(0, slash));
  unsigned length = 0;
  const char* end = text.data() + text.size();
  if (ip && slash != std::string::npos) {
    auto [ptr, ec] = std::from_chars(text.data() + slash + 1, end, length);
    if (ec == std::errc{} && ptr == end && length >= 1 && length <= 32) {
      config.node_ip = *ip;
      config.node_prefix_length = static_cast<uint8_t>(length);
      return;
    }
  }
  throw ConfigError(quoted(text) + " is not an address with its subnet such as 192.168.1.10/24");
}

void set_cluster_cidr(Config& config, const YAML::Node& node) {
  config.cluster_cidr.reset();
  if (node.IsNull() || scalar(node).empty()) return;
  Config probe;
  set_pod_cidr(probe, node);  // same syntax and the same precise errors
  config.cluster_cidr = probe.pod_cidr;
}

void set_service_cidr(Config& config, const YAML::Node& node) {
  config.service_cidr.reset();
  if (node.IsNull() || scalar(node).empty()) return;
  Config probe;
  set_pod_cidr(probe, node);  // same syntax and the same precise errors
  config.service_cidr = probe.pod_cidr;
}

void set_no_masquerade(Config& config, const YAML::Node& node) {
  config.no_masquerade_cidrs.clear();
  for (const std::string& text : items(node, ',')) {
    Config probe;
    set_pod_cidr(probe, YAML::Node(text));  // same syntax and the same precise errors
    config.no_masquerade_cidrs.push_back(probe.pod_cidr);
  }
}

void set_uplink_gateway(Config& config, const YAML::Node& node) {
  const std::string text = node.IsNull() ? "" : scalar(node);
  config.uplink_gateway = 0;
  if (text.empty()) return;
  auto ip = parse_ipv4(text);
  if (!ip) throw ConfigError(quoted(text) + " is not an IPv4 address");
  config.uplink_gateway = *ip;
}

template <std::string Config::*member>
void set_string(Config& config, const YAML::Node& node) {
  config.*member = scalar(node);
}

template <uint32_t Config::*member>
void set_u32(Config& config, const YAML::Node& node) {
  config.*member = parse_u32(scalar(node));
}

template <bool Config::*member>
void set_bool(Config& config, const YAML::Node& node) {
  if (!YAML::convert<bool>::decode(node, config.*member))
    throw ConfigError(quoted(scalar(node)) + " is not true or false");
}

struct Key {
  const char* name;  // YAML key; the flag is --name with '_' turned into '-'
  const char* type;  // shown in --help
  const char* help;
  void (*apply)(Config&, const YAML::Node&);
  bool is_flag = false;            // a command-line flag without a value
  const char* empty_default = "";  // --help's default when the embedded default is empty
};

// Same order as kDefaultConfigYaml, so --help and the default file read alike.
constexpr Key kKeys[] = {
    {"pod_cidr", "CIDR", "This node's pod CIDR; every pod gets one address from it", set_pod_cidr},
    {"workers", "CPUS", "CPUs of the poll-mode workers, a comma list such as 2,3", set_workers,
     false, "the last online CPU"},
    {"main_cpu", "CPU", "CPU of the control thread (DPDK main lcore); must not be a worker",
     set_main_cpu, false, "the first online CPU that is not a worker"},
    {"socket", "PATH", "Unix socket of the gRPC API, shorter than 108 bytes",
     set_string<&Config::socket>},
    {"state_dir", "DIR", "Directory where pods and addresses are kept across restarts",
     set_string<&Config::state_dir>},
    {"metrics_listen", "HOST:PORT", "Prometheus endpoint; \"\" disables it",
     set_string<&Config::metrics_listen>},
    {"file_prefix", "NAME", "DPDK --file-prefix; two podvsd on one machine need different ones",
     set_string<&Config::file_prefix>},
    {"host_port", "IFNAME", "Host-namespace tap through which the node reaches pods",
     set_string<&Config::host_port>},
    {"vhost_dir", "DIR", "Directory below which each DPDK pod's vhost-user socket directory lives",
     set_string<&Config::vhost_dir>},
    {"mtu", "BYTES", "MTU of pod interfaces and the host port, 576 to 9000", set_u32<&Config::mtu>},
    {"gateway_ip", "IP", "Pods' default gateway, answered by podvsd; outside the pod CIDR",
     set_gateway_ip},
    {"mbufs", "N", "Packet buffers in the mbuf pool", set_u32<&Config::mbufs>},
    {"flow_cache_entries", "N", "Flow cache entries per worker, a power of two from 256 to 1048576",
     set_u32<&Config::flow_cache_entries>},
    {"max_ports", "N", "Port capacity (pods, host port, uplink), 8 to 16384",
     set_u32<&Config::max_ports>},
    {"max_pods", "N",
     "Pods this node takes, 1 to 16384; the pod CIDR's free addresses bound it too",
     set_u32<&Config::max_pods>},
    {"idle_backoff_polls", "N", "Empty polls in a row after which a worker sleeps; 0 never sleeps",
     set_u32<&Config::idle_backoff_polls>},
    {"idle_backoff_us", "USEC", "Length of an idle worker's sleep",
     set_u32<&Config::idle_backoff_us>},
    {"tap_queues", "N",
     "Most queues of a kernel pod's tap, 1 to 16; 0 = one per worker (the taps' buffers bound it)",
     set_u32<&Config::tap_queues>},
    {"vhost_server", "", "New DPDK pods' vhost-user sockets are served by podvsd, not the pod",
     set_bool<&Config::vhost_server>, true},
    {"no_huge", "", "Run DPDK without hugepages (tests, tiny machines)", set_bool<&Config::no_huge>,
     true},
    {"eal_args", "ARGS",
     "Extra DPDK EAL arguments, one string split on spaces (write --eal-args='--a --b')",
     set_eal_args, false, "none"},
    {"log_level", "LEVEL", "error, warning, info or debug", set_string<&Config::log_level>},
    {"service_cidr", "CIDR",
     "The cluster's Service network, routed to the host port, e.g. 10.96.0.0/12", set_service_cidr,
     false, "none"},
    {"cluster_cidr", "CIDR", "The cluster's pod network, e.g. 10.244.0.0/16", set_cluster_cidr,
     false, "none"},
    {"uplink_interface", "IFNAME", "Kernel interface used as the uplink (net_af_packet)",
     set_string<&Config::uplink_interface>, false, "none: no overlay"},
    {"uplink_device", "DEVARGS", "DPDK devargs of the uplink, e.g. a NIC's PCI address",
     set_string<&Config::uplink_device>, false, "none"},
    {"uplink_vhost_socket", "PATH", "vhost-user socket of the uplink (podvsd connects to it)",
     set_string<&Config::uplink_vhost_socket>, false, "none"},
    {"node_ip", "IP/LEN", "This node's underlay address and subnet, e.g. 192.168.1.10/24",
     set_node_ip, false, "none"},
    {"uplink_gateway", "IP", "Underlay next hop for nodes outside node_ip's subnet",
     set_uplink_gateway, false, "none"},
    {"uplink_mtu", "BYTES", "MTU of the uplink; pods get 50 bytes less",
     set_u32<&Config::uplink_mtu>},
    {"vxlan_port", "PORT", "VXLAN UDP port; 0 = 4789, or 8472 with --flannel-compat",
     set_u32<&Config::vxlan_port>},
    {"vxlan_vni", "VNI", "VXLAN network identifier, 1 to 16777215", set_u32<&Config::vxlan_vni>},
    {"vxlan_udp_checksum", "", "Compute the outer UDP checksum of VXLAN packets (else 0)",
     set_bool<&Config::vxlan_udp_checksum>, true},
    {"flannel_compat", "", "Interoperate with flannel's VXLAN backend (UDP port 8472)",
     set_bool<&Config::flannel_compat>, true},
    {"masquerade", "BOOL", "SNAT pods' traffic leaving the cluster to the node IP",
     set_bool<&Config::masquerade>},
    {"no_masquerade_cidrs", "CIDRS", "Destinations not masqueraded, a comma list",
     set_no_masquerade, false, "none"},
    {"conntrack_entries", "N", "Connections tracked per worker for masquerade and Services",
     set_u32<&Config::conntrack_entries>},
    {"maglev_table_size", "PRIME", "Slots of each Service port's Maglev table (same on every node)",
     set_u32<&Config::maglev_table_size>},
};
constexpr size_t kKeyCount = std::size(kKeys);

const Key* find_key(const std::string& name) {
  for (const Key& key : kKeys)
    if (name == key.name) return &key;
  return nullptr;
}

std::string flag_name(const Key& key) {
  std::string flag = std::string("--") + key.name;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string unknown_keys_message(const std::vector<std::string>& unknown) {
  std::string message = unknown.size() == 1 ? "unknown key " : "unknown keys ";
  for (size_t i = 0; i < unknown.size(); ++i) {
    message += (i ? ", " : "") + quoted(unknown[i]);
    std::string underscored = unknown[i];
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    if (underscored != unknown[i] && find_key(underscored))
      message += " (keys use underscores: " + underscored + ")";
  }
  message += "; known keys are";
  for (const Key& key : kKeys) message += std::string(" ") + key.name;
  return message;
}

// What --help shows as an option's default: the embedded default config's value.
std::string default_text(const Key& key, const YAML::Node& defaults) {
  const YAML::Node node = defaults[key.name];
  std::string text;
  if (node.IsScalar()) text = node.Scalar().empty() ? "\"\"" : node.Scalar();
  if (node.IsSequence())
    for (const YAML::Node& item : node) text += (text.empty() ? "" : ",") + item.Scalar();
  return text.empty() ? key.empty_default : text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_power_of_two(uint32_t value) { return value != 0 && (value & (value - 1)) == 0; }

void validate_listen_address(const std::string& listen) {
  if (listen.empty()) return;
  const size_t colon = listen.rfind(':');
  unsigned port = 0;
  bool ok = colon != std::string::npos && colon > 0;
  if (ok) {
    const char* end = listen.data() + listen.size();
    auto [ptr, ec] = std::from_chars(listen.data() + colon + 1, end, port);
    ok = ec == std::errc{} && ptr == end && port > 0 && port <= 65535;
  }
  if (!ok)
    throw ConfigError("metrics_listen " + quoted(listen) +
                      " is not host:port (such as 127.0.0.1:9477); use \"\" to disable metrics");
}

void validate_cpus(const Config& config) {
  const unsigned cpus = std::thread::hardware_concurrency();
  const std::string range = " (this machine has CPUs 0 to " + std::to_string(cpus - 1) + ")";
  if (config.worker_cpus.empty()) throw ConfigError("workers is empty; name at least one CPU");
  for (size_t i = 0; i < config.worker_cpus.size(); ++i) {
    const unsigned cpu = config.worker_cpus[i];
    if (cpu >= cpus)
      throw ConfigError("workers: CPU " + std::to_string(cpu) + " does not exist" + range);
    // Two workers may share a CPU only if they sleep when idle and so take turns (tests of
    // several workers on a small machine); busy-polling both would starve one of them.
    if (config.idle_backoff_polls == 0 &&
        std::find(config.worker_cpus.begin(), config.worker_cpus.begin() + i, cpu) !=
            config.worker_cpus.begin() + i)
      throw ConfigError("workers: CPU " + std::to_string(cpu) +
                        " is listed twice; workers sharing a CPU need idle_backoff_polls > 0");
  }
  if (!config.main_cpu) return;
  const std::string main = std::to_string(*config.main_cpu);
  if (*config.main_cpu >= cpus) throw ConfigError("main_cpu " + main + " does not exist" + range);
  if (std::find(config.worker_cpus.begin(), config.worker_cpus.end(), *config.main_cpu) !=
      config.worker_cpus.end())
    throw ConfigError("main_cpu " + main +
                      " is also a worker; a worker keeps its CPU busy polling, so pick another");
}

}  // namespace

Config config_from_yaml(const std::string& yaml_text, Config base) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("line " + std::to_string(e.mark.line + 1) + " is not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return base;
  if (!root.IsMap()) throw ConfigError("the config is not a YAML mapping of keys to values");
  std::vector<std::string> unknown;
  for (const auto& entry : root)
    if (!find_key(entry.first.Scalar())) unknown.push_back(entry.first.Scalar());
  if (!unknown.empty()) throw ConfigError(unknown_keys_message(unknown));
  for (const auto& entry : root) {
    const std::string name = entry.first.Scalar();
    try {
      find_key(name)->apply(base, entry.second);
    } catch (const ConfigError& e) {
      throw ConfigError(name + " (line " + std::to_string(entry.first.Mark().line + 1) +
                        "): " + e.what());
    }
  }
  return base;
}

void fill_cpu_defaults(Config& config) {
  // glibc counts online CPUs here; we assume they are numbered 0..n-1, as validate() does.
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  if (config.worker_cpus.empty()) config.worker_cpus = {cpus - 1};
  if (config.main_cpu) return;
  for (unsigned cpu = 0; cpu < cpus; ++cpu) {
    if (std::find(config.worker_cpus.begin(), config.worker_cpus.end(), cpu) ==
        config.worker_cpus.end()) {
      config.main_cpu = cpu;
      return;
    }
  }
}

static void validate_overlay(const Config& config) {
  if (!config.overlay_enabled()) return;
  if (config.uplink_interface.size() > kInterfaceNameMax)
    throw ConfigError("uplink_interface " + quoted(config.uplink_interface) +
                      " is longer than 15 characters");
  if (!config.uplink_vhost_socket.empty()) {
    if (!config.uplink_interface.empty() || !config.uplink_device.empty())
      throw ConfigError("uplink_vhost_socket " + quoted(config.uplink_vhost_socket) +
                        " names a second uplink; set only one of uplink_interface, uplink_device "
                        "and uplink_vhost_socket");
    if (config.uplink_vhost_socket.size() >= kUnixPathMax)
      throw ConfigError("uplink_vhost_socket " + quoted(config.uplink_vhost_socket) + " is " +
                        std::to_string(config.uplink_vhost_socket.size()) +
                        " bytes; a unix socket path needs 1 to 107 bytes");
  }
  if (config.node_ip == 0)
    throw ConfigError(
        "an uplink needs node_ip: this node's underlay address such as "
        "192.168.1.10/24");
  if (config.uplink_mtu < kMinMtu + 50 || config.uplink_mtu > kMaxMtu)
    throw ConfigError("uplink_mtu " + std::to_string(config.uplink_mtu) +
                      " is out of range; use 626 to 9000 (pods get 50 bytes less)");
  if (config.vxlan_port > 65535)
    throw ConfigError("vxlan_port " + std::to_string(config.vxlan_port) + " is not a UDP port");
  if (config.vxlan_vni == 0 || config.vxlan_vni > 0xffffff)
    throw ConfigError("vxlan_vni " + std::to_string(config.vxlan_vni) +
                      " is out of range; use 1 to 16777215");
}

Ipv4Prefix parse_pod_cidr(const std::string& text) { return network_from_text(text); }

void validate_pod_cidr(const Config& config) {
  const Ipv4Prefix& cidr = config.pod_cidr;
  if (cidr.length < kShortestPodPrefix || cidr.length > kLongestPodPrefix)
    throw ConfigError("pod_cidr " + cidr.str() +
                      " is not supported; use a prefix length from /8 to /30");
  if (cidr.contains(config.gateway_ip))
    throw ConfigError("gateway_ip " + ipv4_str(config.gateway_ip) + " lies inside pod_cidr " +
                      cidr.str() + "; use an address outside it such as 169.254.1.1");
  if (config.cluster_cidr &&
      !(config.cluster_cidr->contains(cidr.network) && config.cluster_cidr->length <= cidr.length))
    throw ConfigError("pod_cidr " + cidr.str() + " is not inside cluster_cidr " +
                      config.cluster_cidr->str());
  if (config.overlay_enabled() && cidr.contains(config.node_ip))
    throw ConfigError("node_ip " + ipv4_str(config.node_ip) + " lies inside pod_cidr " +
                      cidr.str() + "; the underlay needs its own addresses");
  if (config.service_cidr &&
      (config.service_cidr->contains(cidr.network) || cidr.contains(config.service_cidr->network)))
    throw ConfigError("pod_cidr " + cidr.str() + " overlaps service_cidr " +
                      config.service_cidr->str() + "; Services and pods need separate networks");
}

void validate_service_cidr(const Config& config) {
  if (!config.service_cidr) return;
  const Ipv4Prefix& cidr = *config.service_cidr;
  // The pod CIDR's bounds: a shorter prefix would route a large part of the Internet into podvs.
  if (cidr.length < kShortestPodPrefix || cidr.length > kLongestPodPrefix)
    throw ConfigError("service_cidr " + cidr.str() + " is not supported; use /8 to /30");
  if (cidr.contains(config.gateway_ip))
    throw ConfigError("gateway_ip " + ipv4_str(config.gateway_ip) + " lies inside service_cidr " +
                      cidr.str());
  if (config.cluster_cidr &&
      (config.cluster_cidr->contains(cidr.network) || cidr.contains(config.cluster_cidr->network)))
    throw ConfigError("service_cidr " + cidr.str() + " overlaps cluster_cidr " +
                      config.cluster_cidr->str() + "; Services and pods need separate networks");
  if (config.overlay_enabled() && cidr.contains(config.node_ip))
    throw ConfigError("node_ip " + ipv4_str(config.node_ip) + " lies inside service_cidr " +
                      cidr.str());
}

void validate(const Config& config) {
  validate_pod_cidr(config);
  validate_service_cidr(config);
  validate_cpus(config);
  if (config.socket.empty() || config.socket.size() >= kUnixPathMax)
    throw ConfigError("socket path " + quoted(config.socket) + " is " +
                      std::to_string(config.socket.size()) +
                      " bytes; a unix socket path needs 1 to 107 bytes (sun_path holds 108 with "
                      "the terminating NUL)");
  if (config.state_dir.empty()) throw ConfigError("state_dir is empty; name a directory");
  if (config.vhost_dir.empty()) throw ConfigError("vhost_dir is empty; name a directory");
  if (config.file_prefix.empty() || config.file_prefix.find('/') != std::string::npos)
    throw ConfigError("file_prefix " + quoted(config.file_prefix) +
                      " must be a non-empty name without '/'");
  if (config.host_port.empty() || config.host_port.size() > kInterfaceNameMax)
    throw ConfigError("host_port " + quoted(config.host_port) + " is " +
                      std::to_string(config.host_port.size()) +
                      " characters; an interface name has 1 to 15");
  if (config.mtu < kMinMtu || config.mtu > kMaxMtu)
    throw ConfigError("mtu " + std::to_string(config.mtu) + " is out of range; use 576 to 9000");
  if (config.mbufs == 0) throw ConfigError("mbufs is 0; the switch needs packet buffers");
  if (!is_power_of_two(config.flow_cache_entries) || config.flow_cache_entries < kMinFlowCache ||
      config.flow_cache_entries > kMaxFlowCache)
    throw ConfigError("flow_cache_entries " + std::to_string(config.flow_cache_entries) +
                      " must be a power of two from 256 to 1048576");
  if (config.max_ports < kMinPortCapacity || config.max_ports > kMaxPortCapacity)
    throw ConfigError("max_ports " + std::to_string(config.max_ports) + " is out of range; use " +
                      std::to_string(kMinPortCapacity) + " to " + std::to_string(kMaxPortCapacity));
  if (config.max_pods == 0 || config.max_pods > kMaxPods)
    throw ConfigError("max_pods " + std::to_string(config.max_pods) +
                      " is out of range; use 1 to " + std::to_string(kMaxPods));
  if (config.tap_queues > kMaxTapQueues)
    throw ConfigError("tap_queues " + std::to_string(config.tap_queues) +
                      " is out of range; use 0 (one per worker) or 1 to " +
                      std::to_string(kMaxTapQueues));
  validate_listen_address(config.metrics_listen);
  validate_overlay(config);
  if (!is_prime(config.maglev_table_size) || config.maglev_table_size > kMaglevMaxTableSize)
    throw ConfigError("maglev_table_size " + std::to_string(config.maglev_table_size) +
                      " must be a prime of at most " + std::to_string(kMaglevMaxTableSize) +
                      " (e.g. 251, 1021, 4099, 16381, 65521)");
  if (std::find(kLogLevels.begin(), kLogLevels.end(), config.log_level) == kLogLevels.end())
    throw ConfigError("log_level " + quoted(config.log_level) +
                      " is not one of error, warning, info, debug");
}

PodLimit pod_limit(const Config& config, uint64_t usable_addresses) {
  if (usable_addresses < config.max_pods) return {usable_addresses, "pod_cidr"};
  return {config.max_pods, "max_pods"};
}

std::string pod_limit_error(const Config& config, const PodLimit& limit, uint64_t pods) {
  const std::string head = "node is full: " + std::to_string(pods) +
                           " pods attached, the limit is " + std::to_string(limit.limit);
  if (limit.bound == "pod_cidr")
    return head + ", the usable addresses of pod_cidr " + config.pod_cidr.str() +
           " (below max_pods " + std::to_string(config.max_pods) + "); a larger pod_cidr raises it";
  return head + " (max_pods); raise max_pods to take more";
}

ParsedCommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                     std::ostream& err) {
  CLI::App app("podvsd: a DPDK virtual switch for Kubernetes pods", "podvsd");
  app.set_help_flag("-h,--help", "Print this help and exit");
  std::string config_path;
  bool print_default_config = false;
  bool print_version = false;
  bool check_config = false;
  app.add_option("--config", config_path, "YAML config file; flags given here override it")
      ->type_name("FILE");
  app.add_flag("--print-default-config", print_default_config,
               "Print the default config file (every key, with comments) and exit");
  app.add_flag("--version", print_version, "Print the version and exit");
  // For deployment tooling: a ConfigMap can be checked by the parser that will read it.
  app.add_flag("--check-config", check_config,
               "Check the config file and flags as a start would, print the verdict and exit");

  const YAML::Node defaults = YAML::Load(kDefaultConfigYaml);
  std::array<std::string, kKeyCount> values;
  std::array<bool, kKeyCount> flags{};
  std::array<CLI::Option*, kKeyCount> options{};
  for (size_t i = 0; i < kKeyCount; ++i) {
    const Key& key = kKeys[i];
    const std::string help =
        std::string(key.help) + " (default: " + default_text(key, defaults) + ")";
    options[i] = key.is_flag ? app.add_flag(flag_name(key), flags[i], help)
                             : app.add_option(flag_name(key), values[i], help)->type_name(key.type);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e, out, err) == 0 ? 0 : 2};
  }
  if (print_version) {
    out << "podvsd " << PODVS_VERSION << "\n";
    return {std::nullopt, 0};
  }
  if (print_default_config) {
    out << kDefaultConfigYaml;
    return {std::nullopt, 0};
  }

  try {
    Config config = config_from_yaml(kDefaultConfigYaml, Config{});
    if (!config_path.empty()) {
      try {
        config = config_from_yaml(read_file(config_path), config);
      } catch (const ConfigError& e) {
        throw ConfigError("config file " + config_path + ": " + e.what());
      }
    }
    for (size_t i = 0; i < kKeyCount; ++i) {
      if (options[i]->count() == 0) continue;
      try {
        kKeys[i].apply(config,
                       YAML::Node(kKeys[i].is_flag ? (flags[i] ? "true" : "false") : values[i]));
      } catch (const ConfigError& e) {
        throw ConfigError(flag_name(kKeys[i]) + ": " + e.what());
      }
    }
    fill_cpu_defaults(config);
    validate(config);
    if (check_config) {
      out << "podvsd: the configuration is valid\n";
      return {std::nullopt, 0};
    }
    return {std::move(config), std::nullopt};
  } catch (const ConfigError& e) {
    err << "podvsd: " << e.what() << "\n";
    return {std::nullopt, 2};
  }
}

}  // namespace podvs
