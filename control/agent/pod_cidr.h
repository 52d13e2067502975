// Handing this node's pod CIDR (from its Node object, the cluster's node IPAM) to podvsd, so
// nobody types a pod CIDR per node.
#pragma once

#include <string>

#include "control/agent/podvsd_client.h"

namespace podvs::agent {

// Returns true when podvsd serves `pod_cidr` afterwards; logs podvsd's refusal (pods hold
// addresses of another CIDR) when not.
bool hand_pod_cidr_to_podvsd(Podvsd& podvsd, const std::string& node_name,
                             const std::string& pod_cidr);

}  // namespace podvs::agent
