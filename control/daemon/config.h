// podvsd's configuration: the embedded default YAML, then an optional YAML file, then command-line
// flags, each layer overriding the one before. Flags and YAML keys have the same names (dashes on
// the command line, underscores in YAML).
#pragma once

#include <algorithm>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/net_types.h"

namespace podvs {

// A kernel pod's tap queues at most: as many as the workers podvs is built to scale to.
inline constexpr uint32_t kMaxTapQueues = 16;

struct Config {
  Ipv4Prefix pod_cidr{0x0af40000, 24};  // 10.244.0.0/24
  std::vector<unsigned> worker_cpus;    // empty: the last online CPU (see fill_cpu_defaults)
  std::optional<unsigned> main_cpu;     // control thread / main lcore; empty: see fill_cpu_defaults
  std::string socket = "/run/podvs/podvsd.sock";
  std::string state_dir = "/var/lib/podvs";
  std::string metrics_listen = "127.0.0.1:9477";  // "" disables the exporter
  std::string file_prefix = "podvs";  // DPDK --file-prefix; two daemons on one machine need two
  std::string host_port = "podvs0";   // host-namespace tap name (max 15 chars)
  std::string vhost_dir = "/run/podvs/vhost";  // per-pod vhost-user socket directories live below
  uint32_t mtu = 1500;
  Ipv4 gateway_ip = 0xa9fe0101;        // 169.254.1.1
  uint32_t mbufs = 16383;              // mbuf pool size
  uint32_t flow_cache_entries = 8192;  // per worker, power of two
  uint32_t max_ports = 1024;           // port capacity: pods, the host port and the uplink
  uint32_t max_pods = 250;             // pods on this node; the pod CIDR's addresses bound it too
  uint32_t tap_queues = 1;  // most queues of a kernel pod's tap (to kMaxTapQueues); 0: per worker
  uint32_t idle_backoff_polls = 0;  // 0 = never sleep; else sleep after this many empty polls
  uint32_t idle_backoff_us = 200;   // sleep length
  bool vhost_server = false;  // default vhost-user mode for new DPDK pods (false: podvsd connects)
  bool no_huge = false;       // run DPDK without hugepages (tests, tiny machines)
  std::vector<std::string> eal_args;  // extra EAL arguments appended verbatim
  std::string log_level = "info";     // error|warning|info|debug
  // Kubernetes' Service network: routed to the host port; every ClusterIP lies in it. none: off.
  std::optional<Ipv4Prefix> service_cidr;

  // The VXLAN overlay (off while no uplink is set: uplink_interface, uplink_device or
  // uplink_vhost_socket).
  std::optional<Ipv4Prefix> cluster_cidr;  // every node's pod CIDR lies in it; none: unknown
  std::string uplink_interface;            // kernel interface opened with net_af_packet
  std::string uplink_device;        // or DPDK devargs of the uplink (PCI address, vdev string)
  std::string uplink_vhost_socket;  // or a vhost-user socket that podvsd connects to
  Ipv4 node_ip = 0;                 // our underlay address...
  uint8_t node_prefix_length = 0;   // ...and its subnet's length (next hops on it are on-link)
  Ipv4 uplink_gateway = 0;          // underlay next hop for nodes outside that subnet; 0 = none
  uint32_t uplink_mtu = 1500;
  uint32_t vxlan_port = 0;  // 0: 4789, or 8472 with flannel_compat
  uint32_t vxlan_vni = 1;
  bool vxlan_udp_checksum = false;
  bool flannel_compat = false;
  // Masquerade of pod traffic leaving the cluster (needs an uplink, cluster_cidr and
  // uplink_gateway), except to these networks.
  bool masquerade = true;
  std::vector<Ipv4Prefix> no_masquerade_cidrs;
  uint32_t conntrack_entries = 65536;  // per worker
  uint32_t maglev_table_size = 4099;   // prime

  bool overlay_enabled() const {
    return !uplink_interface.empty() || !uplink_device.empty() || !uplink_vhost_socket.empty();
  }
  uint16_t effective_vxlan_port() const {
    return static_cast<uint16_t>(vxlan_port != 0 ? vxlan_port : flannel_compat ? 8472 : 4789);
  }
  // Pods' MTU: what fits into the overlay (uplink MTU minus the 50 bytes of VXLAN) when there is
  // one, and never more than `mtu`.
  uint32_t pod_mtu() const { return overlay_enabled() ? std::min(mtu, uplink_mtu - 50) : mtu; }

  friend bool operator==(const Config&, const Config&) = default;
};

// A config value that is malformed or out of range; the message names the key (or flag), the value
// and what would be accepted.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How many pods this node takes: max_pods, unless the pod CIDR has fewer usable addresses (the
// host port's address excluded). `bound` says which of the two applies: "max_pods" or "pod_cidr".
struct PodLimit {
  uint64_t limit = 0;
  std::string bound;
};
PodLimit pod_limit(const Config& config, uint64_t usable_addresses);
// The refusal of the pod beyond `limit` while `pods` are attached, naming the bound that applies.
std::string pod_limit_error(const Config& config, const PodLimit& limit, uint64_t pods);

// The embedded default config: a YAML document with every key and a comment per key.
extern const char* const kDefaultConfigYaml;

struct ParsedCommandLine {
  std::optional<Config> config;
  // Set when the caller should exit with it: 0 after --help, --version or
  // --print-default-config, 2 after a usage or config error (already printed to `err`).
  std::optional<int> exit_code;
};

// Loads the embedded defaults, then the YAML file from --config (if given), then every flag given
// on the command line; fills the CPU defaults and validates the result.
ParsedCommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                     std::ostream& err);

// Applies the keys present in `yaml_text` on top of `base`. Throws ConfigError naming the key and
// what is wrong, including unknown keys.
Config config_from_yaml(const std::string& yaml_text, Config base);

// Workers default to the last online CPU, the main CPU to the first online CPU that is not a
// worker (none on a one-CPU machine: the control thread then shares the worker's CPU).
void fill_cpu_defaults(Config& config);

// A pod CIDR in the syntax of pod_cidr ("10.244.0.0/24"). Throws ConfigError naming the text and
// what is wrong (not a network; host bits set, naming the network meant).
Ipv4Prefix parse_pod_cidr(const std::string& text);

// Throws ConfigError when `config.pod_cidr` does not fit the rest of `config`: prefix length out of
// /8../30, holding gateway_ip or (with an uplink) node_ip, outside cluster_cidr, overlapping
// service_cidr. Part of validate;
// also how podvsd judges a pod CIDR set over the API or found in its saved state.
void validate_pod_cidr(const Config& config);
// service_cidr, when set: /8../30, clear of gateway_ip, cluster_cidr and (with an uplink) node_ip.
// Part of validate.
void validate_service_cidr(const Config& config);

// Throws ConfigError for the first value out of range. Expects fill_cpu_defaults to have run.
void validate(const Config& config);

}  // namespace podvs
