// Pure translations between Kubernetes Node objects and podvsd's model, kept free of I/O so
// they are unit tested on their own. The overlay is announced in flannel's Node annotations, so
// podvs and flannel nodes find each other the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/api/control_plane.h"

namespace podvs::agent {

inline constexpr const char* kBackendType = "flannel.alpha.coreos.com/backend-type";
inline constexpr const char* kBackendData = "flannel.alpha.coreos.com/backend-data";
inline constexpr const char* kPublicIp = "flannel.alpha.coreos.com/public-ip";

// The Node's name (metadata.name), or "".
std::string node_name(const nlohmann::json& node);

// spec.podCIDR, else the first IPv4 entry of spec.podCIDRs (dual-stack nodes list both
// families); nullopt when the Node has no IPv4 pod CIDR (yet: the controller manager assigns it).
std::optional<std::string> node_pod_cidr(const nlohmann::json& node);

// A remote node for podvsd, or why the Node is not one: no pod CIDR, missing or malformed
// annotations (backend-data not JSON, VtepMAC not a unicast MAC, public-ip not an IPv4
// address), a backend other than vxlan, or a VNI other than ours (0: not checked).
struct NodeTranslation {
  std::optional<RemoteNodeSpec> node;
  std::string problem;  // set when !node: a sentence naming the field
  // set when !node: the metrics' label for the problem: no_pod_cidr, no_annotations, not_vxlan,
  // bad_backend_data, other_vni or bad_public_ip
  std::string reason;
};
NodeTranslation remote_node_from(const nlohmann::json& node, uint32_t our_vni);

// The merge patch that makes the Node carry this node's VTEP as flannel announces it, or nullopt
// when it already does (so the agent never writes an unchanged Node). `status` is podvsd's: its
// node_ip (prefix dropped), vtep_mac and vni.
std::optional<nlohmann::json> flannel_annotation_patch(const nlohmann::json& node,
                                                       const NodeStatus& status);

}  // namespace podvs::agent
