// The network configuration podvs-cni reads on stdin: the spec's well-known keys, podvs's own keys
// and what the runtime adds (prevResult, runtimeConfig, GC's valid attachments).
//
//   {"cniVersion": "1.1.0", "name": "podvs", "type": "podvs-cni",
//    "socket": "/run/podvs/podvsd.sock",   podvsd's API socket
//    "kind": "tap" | "vhost-user",         default port kind of the network's pods
//    "vhostServer": false,                 vhost-user: podvsd listens on the socket
//    "queues": 1,                          vhost-user: queue pairs the pod may enable (1..16)
//    "timeoutSeconds": 10,                 bound on each podvsd call
//    "logFile": "/var/log/podvs-cni.log"}  logs go there instead of stderr
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni-shim/cni_version.h"
#include "control/api/control_plane.h"

namespace podvs::cni {

inline constexpr std::string_view kDefaultSocket = "/run/podvs/podvsd.sock";
inline constexpr double kDefaultTimeoutSeconds = 10;
inline constexpr double kMaxTimeoutSeconds = 300;

// One entry of GC's valid-attachments list.
struct GcAttachment {
  std::string container_id;
  std::string ifname;
  bool operator==(const GcAttachment&) const = default;
};

struct NetConf {
  std::string cni_version;
  Version version;
  std::string name;
  std::string type;
  std::string socket = std::string(kDefaultSocket);
  PortKind kind = PortKind::tap;
  bool vhost_server = false;
  uint16_t queues = 1;  // vhost-user pods' queue pairs; a tap pod has one
  double timeout_seconds = kDefaultTimeoutSeconds;
  std::string log_file;
  nlohmann::json dns;          // null when absent; echoed into the result
  nlohmann::json prev_result;  // null when absent
  // runtimeConfig
  std::string device_info_file;          // CNIDeviceInfoFile
  std::optional<PortKind> runtime_kind;  // podvsKind
  // GC: the union of cni.dev/valid-attachments and cni.dev/attachments (spec 1.1.0 used both
  // names); present tells an empty list from a missing one.
  std::vector<GcAttachment> valid_attachments;
  bool has_valid_attachments = false;
};

// Throws CniError: 6 for text that is not JSON or a key of the wrong JSON type, 1 for a
// cniVersion this plugin does not speak, 7 for a value that is invalid, 2 for a key podvs
// cannot honour (ipam: podvsd allocates addresses itself).
NetConf parse_netconf(std::string_view text);

// "tap" or "vhost-user"; nullopt for anything else.
std::optional<PortKind> parse_kind(std::string_view text);

// The cniVersion of a configuration that failed to parse, for the error object: the text's
// cniVersion when it is one we speak, else the latest.
std::string error_version(std::string_view text);

}  // namespace podvs::cni
