// The ADD result, shaped for the configuration's cniVersion (SPEC.md "Success"):
//   0.3.x, 0.4.0  ips[] carry "version": "4"
//   1.0.0         no ips[].version
//   1.1.0         interfaces[] carry mtu and socketPath; routes[] add the gateway's link-scope
//                 route (scope 253), which older result formats cannot express
// A prevResult from an earlier plugin is kept and the pod's entries are appended to it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cni-shim/cni_version.h"

namespace podvs::cni {

// What podvsd made for one attachment.
struct Attachment {
  std::string ifname;
  std::string mac;
  std::string sandbox;  // CNI_NETNS
  uint32_t mtu = 0;
  std::string socket_path;  // vhost-user only
  std::string ip;           // dotted quad, a /32
  std::string gateway;      // 169.254.1.1
};

inline constexpr int kRouteScopeLink = 253;  // RT_SCOPE_LINK

nlohmann::json shape_result(const Attachment& a, const std::string& cni_version,
                            const nlohmann::json& prev_result, const nlohmann::json& dns);

// CHECK: the sentence saying how prev_result disagrees with the attachment, or "" when it lists
// the interface (name, sandbox, MAC) and its address.
std::string compare_with_prev_result(const Attachment& a, const nlohmann::json& prev_result);

}  // namespace podvs::cni
