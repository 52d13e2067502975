// STATUS (1.1.0): can this node take a new pod now? Answers within a second.
//   podvsd unreachable: 51, since podvsd is also the data path, existing pods have lost
//     connectivity, which is what 51 adds to 50
//   pod CIDR or podvsd's ports exhausted: 50, ADD would fail, existing pods are fine
#include "cni-shim/verbs.h"

namespace podvs::cni {

void cmd_status(const NetConf& conf, Log& log) {
  NodeStatus status;
  try {
    status = PodvsdClient(conf.socket, std::chrono::milliseconds(0), kStatusTimeout).status();
  } catch (const CniError& e) {
    throw CniError(Code::not_available_limited_connectivity,
                   "podvsd is not available, so no pod can be added and attached pods have no "
                   "network: " +
                       std::string(e.what()));
  }
  if (status.addresses_used >= status.addresses_total)
    throw CniError(Code::not_available, "pod CIDR " + status.pod_cidr +
                                            " is full: " + std::to_string(status.addresses_used) +
                                            " of " + std::to_string(status.addresses_total) +
                                            " addresses in use");
  if (status.ports_used >= status.ports_max)
    throw CniError(Code::not_available,
                   "all " + std::to_string(status.ports_max) +
                       " ports of podvsd's capacity (max_ports) are in use (one per pod plus "
                       "the host port and the uplink)");
  log.line("ready: " + std::to_string(status.addresses_used) + "/" +
           std::to_string(status.addresses_total) + " addresses, " +
           std::to_string(status.ports_used) + "/" + std::to_string(status.ports_max) + " ports");
}

}  // namespace podvs::cni
