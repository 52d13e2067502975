// Follows Node objects (fed by the Node informer) and programs podvsd:
// - this node (--node-name): its pod CIDR goes to podvsd (pod_cidr.h), and its VTEP (podvsd's
//   node IP, VTEP MAC and VNI) is published in flannel's annotations on the Node, by a merge
//   PATCH made only when the Node does not carry them already;
// - every other Node with a pod CIDR and those annotations is a remote node of the overlay:
//   added, replaced when it changes, deleted with the Node. A Node that does not qualify is
//   logged once (per distinct problem), counted, and not programmed; if it was, it is removed.
//
// Which podvsd nodes are the agent's to remove: those whose owner is the agent's (kAgentOwner),
// whichever run of the agent added them; an operator's remote nodes are never touched.
//
// A podvsd call or PATCH that fails is logged and left to resync(), which the resyncer calls
// periodically and when podvsd comes back (resyncer.h): it compares podvsd with the Node objects
// and mends every difference, whatever caused it (a failed call, a restarted podvsd, a node
// deleted behind the agent's back).
//
// Thread safety: the informer's thread calls the handlers, the resyncer's calls resync(); one
// mutex serialises them, so podvsd sees one controller's calls in order.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "control/agent/agent_stats.h"
#include "control/agent/informer_cache.h"
#include "control/agent/kube_client.h"
#include "control/agent/podvsd_client.h"

namespace podvs::agent {

class NodeController final : public InformerHandler {
 public:
  NodeController(std::string node_name, Podvsd& podvsd, KubeClient* kube,
                 AgentStats& stats = AgentStats::none());

  void on_add(const std::string& key, const nlohmann::json& node) override;
  void on_update(const std::string& key, const nlohmann::json& old_node,
                 const nlohmann::json& node) override;
  void on_delete(const std::string& key, const nlohmann::json& last) override;
  void on_synced() override;

  // Mends podvsd to match the Node objects: remote nodes missing, different or extra (the
  // agent's only), this node's pod CIDR, and the VTEP annotations of its Node. Does nothing
  // before the first complete LIST: until then the agent does not know the cluster's nodes, and
  // removing podvsd's would cut traffic while the API server is unreachable. Failures are
  // logged; the next resync tries again. Safe from any thread.
  void resync();

  // For the agent's report to podvsd: whether a complete LIST was delivered, and how many
  // remote nodes podvsd holds as the agent gave them. Safe from any thread.
  bool synced() const;
  size_t programmed() const;

 private:
  using Clock = std::chrono::steady_clock;
  void on_node(const std::string& name, const nlohmann::json& node, Clock::time_point arrived);
  void own_node(const nlohmann::json& node);
  bool announce_vtep(const NodeStatus& status);
  void remote_node(const std::string& name, const nlohmann::json& node, Clock::time_point arrived);
  void mend_remote_nodes();
  bool program(const RemoteNodeSpec& node);
  bool remove(const std::string& name);
  uint32_t our_vni();
  void note_problem(const std::string& name, const std::string& reason, const std::string& problem);

  std::string node_name_;
  Podvsd& podvsd_;
  KubeClient* kube_;  // for the PATCH of our Node; null in tests that only program podvsd
  AgentStats& stats_;
  mutable std::mutex mutex_;
  bool synced_ = false;                               // a complete LIST was delivered
  std::map<std::string, nlohmann::json> nodes_;       // every Node object seen, by name
  std::map<std::string, RemoteNodeSpec> programmed_;  // what podvsd last accepted, by name
  std::map<std::string, std::string> problems_;       // the problem last logged, by node
  std::string own_cidr_seen_;
  uint32_t our_vni_ = 0;
};

}  // namespace podvs::agent
