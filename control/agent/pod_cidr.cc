#include "control/agent/pod_cidr.h"

#include "base/log.h"

namespace podvs::agent {

bool hand_pod_cidr_to_podvsd(Podvsd& podvsd, const std::string& node_name,
                             const std::string& pod_cidr) {
  // After the merge with SetPodCidr: podvsd.set_pod_cidr(pod_cidr), and its answer's status.
  const NodeStatus status = podvsd.status();
  if (status.pod_cidr == pod_cidr) {
    PODVS_LOG(info, "node %s: pod CIDR %s, as podvsd serves", node_name.c_str(), pod_cidr.c_str());
    return true;
  }
  PODVS_LOG(error,
            "node %s: the Node's spec.podCIDR is %s but podvsd serves %s; start podvsd with "
            "--pod-cidr %s (podvsd cannot yet be told at run time)",
            node_name.c_str(), pod_cidr.c_str(), status.pod_cidr.c_str(), pod_cidr.c_str());
  return false;
}

}  // namespace podvs::agent
