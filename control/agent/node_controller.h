// Follows Node objects (fed by the Node informer) and programs podvsd:
// - this node (--node-name): its pod CIDR goes to podvsd (pod_cidr.h), and its VTEP (podvsd's
//   node IP, VTEP MAC and VNI) is published in flannel's annotations on the Node, by a merge
//   PATCH made only when the Node does not carry them already;
// - every other Node with a pod CIDR and those annotations is a remote node of the overlay:
//   added, replaced when it changes, deleted with the Node. A Node that does not qualify is
//   logged once (per distinct problem) and not programmed; if it was, it is removed.
//
// Which podvsd nodes are the agent's to remove: those whose owner is the agent's (kAgentOwner),
// whichever run of the agent added them; an operator's remote nodes are never touched.
//
// Called on the informer's thread only.
#pragma once

#include <map>
#include <set>
#include <string>

#include "control/agent/informer_cache.h"
#include "control/agent/kube_client.h"
#include "control/agent/podvsd_client.h"

namespace podvs::agent {

class NodeController final : public InformerHandler {
 public:
  NodeController(std::string node_name, Podvsd& podvsd, KubeClient* kube);

  void on_add(const std::string& key, const nlohmann::json& node) override;
  void on_update(const std::string& key, const nlohmann::json& old_node,
                 const nlohmann::json& node) override;
  void on_delete(const std::string& key, const nlohmann::json& last) override;
  void on_synced() override;

 private:
  void own_node(const nlohmann::json& node);
  void remote_node(const std::string& name, const nlohmann::json& node);
  void remove(const std::string& name);
  void note_problem(const std::string& name, const std::string& problem);

  std::string node_name_;
  Podvsd& podvsd_;
  KubeClient* kube_;  // for the PATCH of our Node; null in tests that only program podvsd
  std::set<std::string> known_;                       // names of Node objects seen
  std::map<std::string, RemoteNodeSpec> programmed_;  // what podvsd was last given, by name
  std::map<std::string, std::string> problems_;       // the problem last logged, by node
  std::string own_cidr_seen_;
  uint32_t our_vni_ = 0;
};

}  // namespace podvs::agent
