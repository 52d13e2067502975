// The Node controller against a fake podvsd: remote nodes follow Node objects, unchanged Nodes
// cause no call, Nodes that stop qualifying are removed, a relist mends podvsd's list, and a
// resync mends whatever differs (counted), retries failed calls and leaves an operator's nodes.
#include <gtest/gtest.h>

#include <map>

#include "control/agent/node_controller.h"
#include "control/agent/node_translation.h"

namespace podvs::agent {
namespace {

struct FakePodvsd final : Podvsd {
  std::map<std::string, RemoteNodeSpec> nodes;
  std::vector<std::string> calls;      // node adds and deletes
  std::vector<std::string> pod_cidrs;  // SetPodCidr calls
  std::string pod_cidr = "10.244.1.0/24";
  bool failing = false;  // node calls fail, as they do while podvsd is away
  NodeStatus status() override {
    NodeStatus s;
    s.pod_cidr = pod_cidr;
    s.node_ip = "192.168.1.11/24";
    s.vtep_mac = "0a:00:00:00:00:11";
    s.vni = 1;
    return s;
  }
  uint64_t report_agent(const AgentReport&) override { return 1; }
  NodeStatus set_pod_cidr(const std::string& cidr) override {
    pod_cidrs.push_back(cidr);
    pod_cidr = cidr;
    return status();
  }
  // As podvsd does for the agent's ListNodes: only the agent's own.
  std::vector<RemoteNodeSpec> list_nodes() override {
    std::vector<RemoteNodeSpec> out;
    for (const auto& [name, n] : nodes)
      if (n.owner == kAgentOwner) out.push_back(n);
    return out;
  }
  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override {
    if (failing) throw PodvsdError("podvsd: AddNode " + node.name + ": unavailable");
    calls.push_back("add " + node.name + " " + node.pod_cidr + " " + node.node_ip);
    RemoteNodeSpec ours = node;
    ours.owner = kAgentOwner;
    return nodes[node.name] = ours;
  }
  void del_node(const std::string& name) override {
    if (failing) throw PodvsdError("podvsd: DelNode " + name + ": unavailable");
    calls.push_back("del " + name);
    nodes.erase(name);
  }
  // The Node controller makes no Service call.
  std::vector<ServiceSpec> list_services() override { return {}; }
  std::vector<std::string> add_services(const std::vector<ServiceSpec>& services) override {
    ADD_FAILURE() << "add_services " << services.size();
    return std::vector<std::string>(services.size());
  }
  void del_service(const std::string&, const std::string& name) override {
    ADD_FAILURE() << "del_service " << name;
  }
};

nlohmann::json node(const std::string& name, int n, const std::string& mac = "0a:00:00:00:00:02") {
  nlohmann::json o = {{"metadata", {{"name", name}, {"resourceVersion", "1"}}},
                      {"spec", {{"podCIDR", "10.244." + std::to_string(n) + ".0/24"}}}};
  o["metadata"]["annotations"] = {{kBackendType, "vxlan"},
                                  {kBackendData, R"({"VNI":1,"VtepMAC":")" + mac + R"("})"},
                                  {kPublicIp, "192.168.1." + std::to_string(10 + n)}};
  return o;
}

TEST(NodeController, RemoteNodesFollowNodeObjects) {
  FakePodvsd podvsd;
  NodeController c("n1", podvsd, nullptr);
  c.on_add("n2", node("n2", 2));
  c.on_add("n1", node("n1", 1));  // ourselves: never a remote node
  c.on_synced();
  c.on_update("n2", node("n2", 2), node("n2", 2));  // unchanged: no call
  c.on_update("n2", node("n2", 2), node("n2", 2, "0a:00:00:00:00:22"));
  c.on_delete("n2", node("n2", 2));
  c.on_delete("n9", node("n9", 9));  // never programmed: no call
  EXPECT_EQ(podvsd.calls,
            (std::vector<std::string>{"add n2 10.244.2.0/24 192.168.1.12",
                                      "add n2 10.244.2.0/24 192.168.1.12", "del n2"}));
  EXPECT_EQ(podvsd.nodes.count("n1"), 0u);
}

TEST(NodeController, ThisNodesPodCidrGoesToPodvsdOncePerChange) {
  FakePodvsd podvsd;
  NodeController c("n1", podvsd, nullptr);
  c.on_add("n1", node("n1", 1));
  c.on_update("n1", node("n1", 1), node("n1", 1));  // unchanged: not again
  c.on_add("n2", node("n2", 2));                    // another node's CIDR is not ours
  nlohmann::json moved = node("n1", 1);
  moved["spec"]["podCIDR"] = "10.244.7.0/24";
  c.on_update("n1", node("n1", 1), moved);
  EXPECT_EQ(podvsd.pod_cidrs, (std::vector<std::string>{"10.244.1.0/24", "10.244.7.0/24"}));
}

TEST(NodeController, ANodeThatStopsQualifyingIsRemoved) {
  FakePodvsd podvsd;
  NodeController c("n1", podvsd, nullptr);
  c.on_add("n3", node("n3", 3));
  nlohmann::json bad = node("n3", 3);
  bad["metadata"]["annotations"][kBackendData] = "{oops";
  c.on_update("n3", node("n3", 3), bad);
  c.on_update("n3", bad, bad);  // still bad: nothing more
  EXPECT_EQ(podvsd.calls,
            (std::vector<std::string>{"add n3 10.244.3.0/24 192.168.1.13", "del n3"}));
}

TEST(NodeController, SyncMendsPodvsdsListButLeavesNodesThatAreNotOurs) {
  FakePodvsd podvsd;
  // An operator's node, and one an earlier run of the agent added.
  podvsd.nodes["manual"] = {
      "manual", "10.9.0.0/24", "192.168.1.99", "0a:00:00:00:00:99", "", "", "", ""};
  podvsd.nodes["n4"] = {
      "n4", "10.244.4.0/24", "192.168.1.14", "0a:00:00:00:00:04", kAgentOwner, "", "", ""};
  NodeController c("n1", podvsd, nullptr);
  nlohmann::json unannotated = node("n4", 4);
  unannotated["metadata"].erase("annotations");
  c.on_add("n4", unannotated);  // a Node named n4 that is not an overlay node
  c.on_add("n2", node("n2", 2));
  podvsd.nodes.erase("n2");  // podvsd lost it (restarted without state)
  podvsd.calls.clear();
  c.on_synced();
  EXPECT_EQ(podvsd.calls,
            (std::vector<std::string>{"del n4", "add n2 10.244.2.0/24 192.168.1.12"}));
  EXPECT_EQ(podvsd.nodes.count("manual"), 1u);
}

// Records what the controller reports.
struct RecordingStats final : AgentStats {
  std::vector<std::string> repairs, skipped;
  int resyncs = 0, programmed_changes = 0;
  void resynced(const std::string&) override { ++resyncs; }
  void repaired(const std::string& controller, const std::string& what) override {
    repairs.push_back(controller + " " + what);
  }
  void node_skipped(const std::string& reason) override { skipped.push_back(reason); }
  void programmed(std::chrono::steady_clock::duration) override { ++programmed_changes; }
};

RemoteNodeSpec operator_node() {
  return {"manual", "10.9.0.0/24", "192.168.1.99", "0a:00:00:00:00:99", "", "", "", ""};
}

// A controller that has listed n1 (itself), n2 and n3, with podvsd holding n2 and n3.
struct Synced {
  FakePodvsd podvsd;
  RecordingStats stats;
  NodeController c{"n1", podvsd, nullptr, stats};
  Synced() {
    podvsd.nodes["manual"] = operator_node();
    c.on_add("n1", node("n1", 1));
    c.on_add("n2", node("n2", 2));
    c.on_add("n3", node("n3", 3));
    c.on_synced();
    podvsd.calls.clear();
  }
};

TEST(NodeControllerResync, NothingToMendMeansNoCall) {
  Synced s;
  s.c.resync();
  EXPECT_TRUE(s.podvsd.calls.empty());
  EXPECT_TRUE(s.stats.repairs.empty());
  EXPECT_EQ(s.stats.resyncs, 1);
}

TEST(NodeControllerResync, ANodeDeletedBehindTheAgentsBackIsAddedAgain) {
  Synced s;
  s.podvsd.nodes.erase("n2");  // podvsctl node del --owner podvs-agent
  s.c.resync();
  EXPECT_EQ(s.podvsd.calls, (std::vector<std::string>{"add n2 10.244.2.0/24 192.168.1.12"}));
  EXPECT_EQ(s.stats.repairs, (std::vector<std::string>{"nodes missing"}));
}

TEST(NodeControllerResync, ADifferentNodeIsReplacedAndAnExtraOneRemoved) {
  Synced s;
  s.podvsd.nodes["n3"].node_ip = "192.168.1.77";
  s.podvsd.nodes["old"] = {
      "old", "10.244.8.0/24", "192.168.1.18", "0a:00:00:00:00:08", kAgentOwner, "", "", ""};
  s.c.resync();
  EXPECT_EQ(s.podvsd.calls,
            (std::vector<std::string>{"del old", "add n3 10.244.3.0/24 192.168.1.13"}));
  EXPECT_EQ(s.stats.repairs, (std::vector<std::string>{"nodes extra", "nodes different"}));
  EXPECT_EQ(s.podvsd.nodes.count("old"), 0u);
}

TEST(NodeControllerResync, AnOperatorsNodeIsNeverTouched) {
  Synced s;
  // Even one named like a Node the agent programs elsewhere is the operator's to manage.
  s.podvsd.nodes["n9"] = operator_node();
  s.podvsd.nodes["n9"].name = "n9";
  s.c.resync();
  EXPECT_TRUE(s.podvsd.calls.empty());
  EXPECT_EQ(s.podvsd.nodes.count("manual"), 1u);
  EXPECT_EQ(s.podvsd.nodes.count("n9"), 1u);
}

TEST(NodeControllerResync, AFailedCallIsRetriedByTheNextResync) {
  Synced s;
  s.podvsd.failing = true;
  s.c.on_add("n4", node("n4", 4));  // logged, not thrown: the informer goes on
  s.c.on_delete("n3", node("n3", 3));
  EXPECT_EQ(s.podvsd.nodes.count("n4"), 0u);
  EXPECT_EQ(s.podvsd.nodes.count("n3"), 1u);
  s.c.resync();  // podvsd still failing: nothing mended, nothing lost
  EXPECT_TRUE(s.stats.repairs.empty());
  s.podvsd.failing = false;
  s.c.resync();
  EXPECT_EQ(s.podvsd.calls,
            (std::vector<std::string>{"del n3", "add n4 10.244.4.0/24 192.168.1.14"}));
  EXPECT_EQ(s.stats.repairs, (std::vector<std::string>{"nodes extra", "nodes missing"}));
}

TEST(NodeControllerResync, ThisNodesPodCidrIsHandedOverAgain) {
  Synced s;
  s.podvsd.pod_cidr = "10.244.9.0/24";  // a podvsd restarted with its configured CIDR
  s.podvsd.pod_cidrs.clear();
  s.c.resync();
  EXPECT_EQ(s.podvsd.pod_cidrs, (std::vector<std::string>{"10.244.1.0/24"}));
  EXPECT_EQ(s.stats.repairs, (std::vector<std::string>{"nodes pod_cidr"}));
}

TEST(NodeControllerResync, NothingIsDoneBeforeTheFirstList) {
  // The API server is unreachable since the agent started: podvsd keeps what an earlier run of
  // the agent programmed.
  FakePodvsd podvsd;
  podvsd.nodes["n2"] = {
      "n2", "10.244.2.0/24", "192.168.1.12", "0a:00:00:00:00:02", kAgentOwner, "", "", ""};
  RecordingStats stats;
  NodeController c("n1", podvsd, nullptr, stats);
  c.resync();
  EXPECT_TRUE(podvsd.calls.empty());
  EXPECT_EQ(stats.resyncs, 0);
}

TEST(NodeControllerStats, SkippedNodesAreCountedByReasonOncePerProblem) {
  FakePodvsd podvsd;
  RecordingStats stats;
  NodeController c("n1", podvsd, nullptr, stats);
  nlohmann::json bad = node("n3", 3);
  bad["metadata"]["annotations"][kBackendData] = "{oops";
  c.on_add("n3", bad);
  c.on_update("n3", bad, bad);
  nlohmann::json bare = node("n4", 4);
  bare["spec"].erase("podCIDR");
  c.on_add("n4", bare);
  EXPECT_EQ(stats.skipped, (std::vector<std::string>{"bad_backend_data", "no_pod_cidr"}));
  c.on_add("n2", node("n2", 2));
  c.on_add("n2", node("n2", 2));  // unchanged: no call, nothing programmed
  c.on_delete("n2", node("n2", 2));
  EXPECT_EQ(stats.programmed_changes, 2);
}

}  // namespace
}  // namespace podvs::agent
