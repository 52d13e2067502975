#include "control/agent/pod_cidr.h"

#include "base/log.h"

namespace podvs::agent {

bool hand_pod_cidr_to_podvsd(Podvsd& podvsd, const std::string& node_name,
                             const std::string& pod_cidr) {
  try {
    const NodeStatus status = podvsd.set_pod_cidr(pod_cidr);
    PODVS_LOG(info, "node %s: podvsd serves pod CIDR %s", node_name.c_str(),
              status.pod_cidr.c_str());
    return true;
  } catch (const PodvsdError& e) {
    // podvsd refuses a new CIDR while pods hold addresses of the old one; its sentence says so.
    PODVS_LOG(error, "node %s: the Node's spec.podCIDR is %s, and podvsd did not take it: %s",
              node_name.c_str(), pod_cidr.c_str(), e.what());
    return false;
  }
}

}  // namespace podvs::agent
