#include "control/agent/node_controller.h"

#include <strings.h>

#include "base/log.h"
#include "control/agent/node_translation.h"
#include "control/agent/pod_cidr.h"

namespace podvs::agent {
namespace {

constexpr const char* kController = "nodes";  // the metrics' label for this controller

bool same_node(const RemoteNodeSpec& a, const RemoteNodeSpec& b) {
  // MACs are compared without case: podvsd keeps the text it was given, an operator may not.
  return a.name == b.name && a.pod_cidr == b.pod_cidr && a.node_ip == b.node_ip &&
         strcasecmp(a.vtep_mac.c_str(), b.vtep_mac.c_str()) == 0;
}

}  // namespace

NodeController::NodeController(std::string node_name, Podvsd& podvsd, KubeClient* kube,
                               AgentStats& stats)
    : node_name_(std::move(node_name)), podvsd_(podvsd), kube_(kube), stats_(stats) {}

void NodeController::on_add(const std::string& key, const nlohmann::json& node) {
  const auto arrived = Clock::now();
  std::lock_guard lock(mutex_);
  on_node(key, node, arrived);
}

void NodeController::on_update(const std::string& key, const nlohmann::json&,
                               const nlohmann::json& node) {
  const auto arrived = Clock::now();
  std::lock_guard lock(mutex_);
  on_node(key, node, arrived);
}

void NodeController::on_delete(const std::string& key, const nlohmann::json&) {
  const auto arrived = Clock::now();
  std::lock_guard lock(mutex_);
  nodes_.erase(key);
  problems_.erase(key);
  if (key != node_name_ && remove(key)) stats_.programmed(Clock::now() - arrived);
}

// After a (re)list the informer has told every add and delete; what is left to mend is
// podvsd's own list: nodes the agent programmed that podvsd lost (a podvsd restart without its
// state), and nodes named like a Node that no longer qualifies.
void NodeController::on_synced() {
  std::lock_guard lock(mutex_);
  synced_ = true;
  try {
    mend_remote_nodes();
  } catch (const PodvsdError& e) {
    PODVS_LOG(error, "nodes: cannot compare with podvsd after the list: %s", e.what());
  }
  PODVS_LOG(info, "nodes synced: %zu Node objects, %zu remote nodes programmed", nodes_.size(),
            programmed_.size());
}

bool NodeController::synced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

size_t NodeController::programmed() const {
  std::lock_guard lock(mutex_);
  return programmed_.size();
}

void NodeController::resync() {
  std::lock_guard lock(mutex_);
  if (!synced_) return;
  stats_.resynced(kController);
  try {
    if (const auto own = nodes_.find(node_name_); own != nodes_.end()) {
      const NodeStatus status = podvsd_.status();
      if (!own_cidr_seen_.empty() && status.pod_cidr != own_cidr_seen_) {
        PODVS_LOG(warning, "resync: podvsd serves pod CIDR %s, the Node says %s: handing it over",
                  status.pod_cidr.c_str(), own_cidr_seen_.c_str());
        if (hand_pod_cidr_to_podvsd(podvsd_, node_name_, own_cidr_seen_))
          stats_.repaired(kController, "pod_cidr");
      }
      if (announce_vtep(status)) stats_.repaired(kController, "annotations");
    }
    mend_remote_nodes();
  } catch (const std::exception& e) {
    PODVS_LOG(error, "resync of nodes failed: %s; the next resync tries again", e.what());
  }
}

void NodeController::on_node(const std::string& name, const nlohmann::json& node,
                             Clock::time_point arrived) {
  nodes_[name] = node;
  if (name == node_name_)
    own_node(node);
  else
    remote_node(name, node, arrived);
}

void NodeController::own_node(const nlohmann::json& node) {
  if (const auto cidr = node_pod_cidr(node); cidr && *cidr != own_cidr_seen_) {
    hand_pod_cidr_to_podvsd(podvsd_, node_name_, *cidr);
    own_cidr_seen_ = *cidr;
  }
  announce_vtep(podvsd_.status());
}

// Publishes podvsd's VTEP in our Node's annotations unless they say so already. A failed PATCH
// is logged; resync() comes back here. Returns whether it patched the Node.
bool NodeController::announce_vtep(const NodeStatus& status) {
  if (status.node_ip.empty() || status.vtep_mac.empty()) {
    note_problem(node_name_, "no_vtep", "podvsd has no uplink, so there is no VTEP to announce");
    return false;
  }
  problems_.erase(node_name_);
  nlohmann::json& node = nodes_[node_name_];
  const auto patch = flannel_annotation_patch(node, status);
  if (!patch || !kube_) return false;
  try {
    // The answer is the Node as patched: until its watch event arrives, a resync compares with
    // it rather than PATCHing again.
    node = kube_->merge_patch("/api/v1/nodes/" + node_name_, *patch);
  } catch (const KubeError& e) {
    PODVS_LOG(error, "node %s: cannot announce its VTEP: %s; the next resync tries again",
              node_name_.c_str(), e.what());
    return false;
  }
  PODVS_LOG(info, "node %s: announced VTEP %s at %s (VNI %u) in its annotations",
            node_name_.c_str(), status.vtep_mac.c_str(), status.node_ip.c_str(), status.vni);
  return true;
}

void NodeController::remote_node(const std::string& name, const nlohmann::json& node,
                                 Clock::time_point arrived) {
  const NodeTranslation t = remote_node_from(node, our_vni());
  if (!t.node) {
    note_problem(name, t.reason, t.problem);
    if (remove(name)) stats_.programmed(Clock::now() - arrived);
    return;
  }
  problems_.erase(name);
  if (const auto it = programmed_.find(name);
      it != programmed_.end() && same_node(it->second, *t.node))
    return;
  if (program(*t.node)) stats_.programmed(Clock::now() - arrived);
}

// podvsd's list of the agent's nodes against the Node objects: what is missing or different is
// added (replaced), what no Node asks for is deleted. An operator's nodes are not in the list.
void NodeController::mend_remote_nodes() {
  std::map<std::string, RemoteNodeSpec> desired;
  for (const auto& [name, node] : nodes_)
    if (name != node_name_)
      if (NodeTranslation t = remote_node_from(node, our_vni()); t.node)
        desired[name] = std::move(*t.node);
  std::map<std::string, RemoteNodeSpec> actual;
  for (auto& node : podvsd_.list_nodes()) actual[node.name] = std::move(node);
  for (const auto& [name, node] : actual)
    if (!desired.count(name)) {
      PODVS_LOG(info, "node %s: in podvsd but not a remote node of the cluster: deleting",
                name.c_str());
      programmed_[name] = node;  // so that remove() knows it is there
      if (remove(name)) stats_.repaired(kController, "extra");
    }
  for (const auto& [name, node] : desired) {
    const auto it = actual.find(name);
    if (it != actual.end() && same_node(it->second, node)) {
      programmed_[name] = node;
      continue;
    }
    const char* what = it == actual.end() ? "missing" : "different";
    PODVS_LOG(info, "node %s: %s in podvsd: adding again", name.c_str(), what);
    programmed_.erase(name);
    if (program(node)) stats_.repaired(kController, what);
  }
}

bool NodeController::program(const RemoteNodeSpec& node) {
  try {
    podvsd_.add_node(node);
  } catch (const PodvsdError& e) {
    programmed_.erase(node.name);  // what podvsd holds now is unknown: the resync compares
    PODVS_LOG(error, "node %s: %s; the next resync tries again", node.name.c_str(), e.what());
    return false;
  }
  PODVS_LOG(info, "node %s: remote node %s via %s (VTEP %s)", node.name.c_str(),
            node.pod_cidr.c_str(), node.node_ip.c_str(), node.vtep_mac.c_str());
  programmed_[node.name] = node;
  return true;
}

bool NodeController::remove(const std::string& name) {
  if (!programmed_.count(name)) return false;
  try {
    podvsd_.del_node(name);
  } catch (const PodvsdError& e) {
    PODVS_LOG(error, "node %s: %s; the next resync tries again", name.c_str(), e.what());
    return false;
  }
  programmed_.erase(name);
  PODVS_LOG(info, "node %s: remote node removed", name.c_str());
  return true;
}

// The VNI is fixed for podvsd's life: ask once, not once per Node.
uint32_t NodeController::our_vni() {
  if (our_vni_ == 0) our_vni_ = podvsd_.status().vni;
  return our_vni_;
}

void NodeController::note_problem(const std::string& name, const std::string& reason,
                                  const std::string& problem) {
  auto& last = problems_[name];
  if (last == problem) return;
  last = problem;
  stats_.node_skipped(reason);
  PODVS_LOG(warning, "node %s: skipped: %s", name.c_str(), problem.c_str());
}

}  // namespace podvs::agent
