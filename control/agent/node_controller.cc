#include "control/agent/node_controller.h"

#include "base/log.h"
#include "control/agent/node_translation.h"
#include "control/agent/pod_cidr.h"

namespace podvs::agent {
namespace {

bool same_node(const RemoteNodeSpec& a, const RemoteNodeSpec& b) {
  return a.name == b.name && a.pod_cidr == b.pod_cidr && a.node_ip == b.node_ip &&
         a.vtep_mac == b.vtep_mac;
}

}  // namespace

NodeController::NodeController(std::string node_name, Podvsd& podvsd, KubeClient* kube)
    : node_name_(std::move(node_name)), podvsd_(podvsd), kube_(kube) {}

void NodeController::on_add(const std::string& key, const nlohmann::json& node) {
  known_.insert(key);
  if (key == node_name_)
    own_node(node);
  else
    remote_node(key, node);
}

void NodeController::on_update(const std::string& key, const nlohmann::json&,
                               const nlohmann::json& node) {
  on_add(key, node);
}

void NodeController::on_delete(const std::string& key, const nlohmann::json&) {
  known_.erase(key);
  problems_.erase(key);
  if (key != node_name_) remove(key);
}

// After a (re)list the informer has told every add and delete; what is left to mend is
// podvsd's own list: nodes the agent programmed that podvsd lost (a podvsd restart without its
// state), and nodes named like a Node that no longer qualifies.
void NodeController::on_synced() {
  std::set<std::string> present;
  for (const auto& node : podvsd_.list_nodes()) {
    present.insert(node.name);
    // list_nodes() gives only the agent's own (owner kAgentOwner): an operator's stay.
    if (!programmed_.count(node.name)) {
      PODVS_LOG(info, "node %s: in podvsd but not a remote node of the cluster: deleting",
                node.name.c_str());
      podvsd_.del_node(node.name);
    }
  }
  for (const auto& [name, spec] : programmed_)
    if (!present.count(name)) {
      PODVS_LOG(info, "node %s: missing from podvsd: adding again", name.c_str());
      podvsd_.add_node(spec);
    }
  PODVS_LOG(info, "nodes synced: %zu Node objects, %zu remote nodes programmed", known_.size(),
            programmed_.size());
}

void NodeController::own_node(const nlohmann::json& node) {
  if (const auto cidr = node_pod_cidr(node); cidr && *cidr != own_cidr_seen_) {
    hand_pod_cidr_to_podvsd(podvsd_, node_name_, *cidr);
    own_cidr_seen_ = *cidr;
  }
  const NodeStatus status = podvsd_.status();
  if (status.node_ip.empty() || status.vtep_mac.empty()) {
    note_problem(node_name_, "podvsd has no uplink, so there is no VTEP to announce");
    return;
  }
  const auto patch = flannel_annotation_patch(node, status);
  if (!patch || !kube_) return;
  kube_->merge_patch("/api/v1/nodes/" + node_name_, *patch);
  PODVS_LOG(info, "node %s: announced VTEP %s at %s (VNI %u) in its annotations",
            node_name_.c_str(), status.vtep_mac.c_str(), status.node_ip.c_str(), status.vni);
}

void NodeController::remote_node(const std::string& name, const nlohmann::json& node) {
  // The VNI is fixed for podvsd's life: ask once, not once per Node.
  if (our_vni_ == 0) our_vni_ = podvsd_.status().vni;
  const NodeTranslation t = remote_node_from(node, our_vni_);
  if (!t.node) {
    note_problem(name, t.problem);
    remove(name);
    return;
  }
  problems_.erase(name);
  if (const auto it = programmed_.find(name);
      it != programmed_.end() && same_node(it->second, *t.node))
    return;
  podvsd_.add_node(*t.node);
  PODVS_LOG(info, "node %s: remote node %s via %s (VTEP %s)", name.c_str(),
            t.node->pod_cidr.c_str(), t.node->node_ip.c_str(), t.node->vtep_mac.c_str());
  programmed_[name] = *t.node;
}

void NodeController::remove(const std::string& name) {
  if (!programmed_.count(name)) return;
  podvsd_.del_node(name);
  programmed_.erase(name);
  PODVS_LOG(info, "node %s: remote node removed", name.c_str());
}

void NodeController::note_problem(const std::string& name, const std::string& problem) {
  auto& last = problems_[name];
  if (last == problem) return;
  last = problem;
  PODVS_LOG(warning, "node %s: skipped: %s", name.c_str(), problem.c_str());
}

}  // namespace podvs::agent
