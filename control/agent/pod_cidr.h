// Handing this node's pod CIDR (from its Node object) to podvsd. The one place to change when
// podvsd gains SetPodCidr: today podvsd's CIDR comes from its own --pod-cidr, so the agent can
// only compare and say clearly when they differ.
#pragma once

#include <string>

#include "control/agent/podvsd_client.h"

namespace podvs::agent {

// Returns true when podvsd already serves `pod_cidr`; logs an error naming both CIDRs when not.
bool hand_pod_cidr_to_podvsd(Podvsd& podvsd, const std::string& node_name,
                             const std::string& pod_cidr);

}  // namespace podvs::agent
