// The Node controller against a fake podvsd: remote nodes follow Node objects, unchanged Nodes
// cause no call, Nodes that stop qualifying are removed, and a relist mends podvsd's list.
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
  NodeStatus status() override {
    NodeStatus s;
    s.pod_cidr = "10.244.1.0/24";
    s.node_ip = "192.168.1.11/24";
    s.vtep_mac = "0a:00:00:00:00:11";
    s.vni = 1;
    return s;
  }
  NodeStatus set_pod_cidr(const std::string& pod_cidr) override {
    pod_cidrs.push_back(pod_cidr);
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
    calls.push_back("add " + node.name + " " + node.pod_cidr + " " + node.node_ip);
    RemoteNodeSpec ours = node;
    ours.owner = kAgentOwner;
    return nodes[node.name] = ours;
  }
  void del_node(const std::string& name) override {
    calls.push_back("del " + name);
    nodes.erase(name);
  }
  // The Node controller makes no Service call.
  std::vector<ServiceSpec> list_services() override { return {}; }
  ServiceSpec add_service(const ServiceSpec& service) override {
    ADD_FAILURE() << "add_service " << service.name;
    return service;
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

}  // namespace
}  // namespace podvs::agent
