// Node objects to podvsd's remote nodes, and this node's flannel annotations: the pure
// translations of control/agent/node_translation.h.
#include <gtest/gtest.h>

#include "control/agent/node_translation.h"

namespace podvs::agent {
namespace {

// A Node as flannel (or podvs) annotates it, in the API's JSON shape.
nlohmann::json flannel_node(
    const std::string& backend_data = R"({"VNI":1,"VtepMAC":"0A:11:22:33:44:55"})",
    const std::string& ip = "192.168.1.12") {
  nlohmann::json node = nlohmann::json::parse(R"({
    "kind": "Node", "apiVersion": "v1",
    "metadata": {"name": "n2", "uid": "u1", "resourceVersion": "7", "managedFields": [{}],
                 "creationTimestamp": "2024-01-01T00:00:00Z",
                 "annotations": {"flannel.alpha.coreos.com/backend-type": "vxlan"}},
    "spec": {"podCIDR": "10.244.2.0/24", "podCIDRs": ["10.244.2.0/24"]},
    "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.12"}]}})");
  node["metadata"]["annotations"][kBackendData] = backend_data;
  node["metadata"]["annotations"][kPublicIp] = ip;
  return node;
}

TEST(NodeTranslation, FlannelAnnotationsMakeARemoteNode) {
  const NodeTranslation t = remote_node_from(flannel_node(), 1);
  ASSERT_TRUE(t.node) << t.problem;
  EXPECT_EQ(t.node->name, "n2");
  EXPECT_EQ(t.node->pod_cidr, "10.244.2.0/24");
  EXPECT_EQ(t.node->node_ip, "192.168.1.12");
  EXPECT_EQ(t.node->vtep_mac, "0a:11:22:33:44:55");  // normalised
}

TEST(NodeTranslation, PodCidrFromPodCidrsTakesTheFirstIpv4) {
  nlohmann::json node = flannel_node();
  node["spec"].erase("podCIDR");
  node["spec"]["podCIDRs"] = {"fd00:10:244::/64", "10.244.9.0/24"};
  EXPECT_EQ(node_pod_cidr(node), "10.244.9.0/24");
  node["spec"]["podCIDRs"] = {"fd00:10:244::/64"};
  EXPECT_EQ(node_pod_cidr(node), std::nullopt);
  const NodeTranslation t = remote_node_from(node, 1);
  EXPECT_FALSE(t.node);
  EXPECT_NE(t.problem.find("pod CIDR"), std::string::npos) << t.problem;
}

TEST(NodeTranslation, MalformedOrMissingAnnotationsAreProblemsNamingTheField) {
  const auto problem = [](const nlohmann::json& node) {
    const NodeTranslation t = remote_node_from(node, 1);
    EXPECT_FALSE(t.node);
    return t.problem;
  };
  EXPECT_NE(problem(flannel_node("{not json")).find("backend-data is not a JSON object"),
            std::string::npos);
  EXPECT_NE(problem(flannel_node(R"({"VNI":1})")).find("no \"VtepMAC\""), std::string::npos);
  EXPECT_NE(problem(flannel_node(R"({"VtepMAC":"01:00:5e:00:00:01"})")).find("not a unicast MAC"),
            std::string::npos);
  EXPECT_NE(problem(flannel_node(R"({"VtepMAC":"00:00:00:00:00:00"})")).find("not a unicast MAC"),
            std::string::npos);
  EXPECT_NE(problem(flannel_node(R"({"VtepMAC":"zz"})")).find("not a unicast MAC"),
            std::string::npos);
  EXPECT_NE(problem(flannel_node(R"({"VNI":2,"VtepMAC":"0a:11:22:33:44:55"})")).find("VNI 2"),
            std::string::npos);
  EXPECT_NE(
      problem(flannel_node(R"({"VNI":"1","VtepMAC":"0a:11:22:33:44:55"})")).find("VNI is not"),
      std::string::npos);
  EXPECT_NE(
      problem(flannel_node(R"({"VtepMAC":"0a:11:22:33:44:55"})", "300.1.1.1")).find("public-ip"),
      std::string::npos);
  EXPECT_NE(
      problem(flannel_node(R"({"VtepMAC":"0a:11:22:33:44:55"})", "224.0.0.1")).find("public-ip"),
      std::string::npos);
  nlohmann::json node = flannel_node();
  node["metadata"]["annotations"].erase(kPublicIp);
  EXPECT_NE(problem(node).find("public-ip is missing"), std::string::npos);
  node = flannel_node();
  node["metadata"]["annotations"][kBackendType] = "host-gw";
  EXPECT_NE(problem(node).find("\"host-gw\""), std::string::npos);
  node = flannel_node();
  node["metadata"].erase("annotations");
  EXPECT_NE(problem(node).find("backend-type is missing"), std::string::npos);
  // Annotations of the wrong JSON type are missing, not a crash.
  node = flannel_node();
  node["metadata"]["annotations"] = 5;
  EXPECT_FALSE(remote_node_from(node, 1).node);
}

TEST(NodeTranslation, AVniWeDoNotKnowYetIsNotChecked) {
  EXPECT_TRUE(remote_node_from(flannel_node(R"({"VNI":7,"VtepMAC":"0a:11:22:33:44:55"})"), 0).node);
}

TEST(FlannelPatch, WrittenOnlyWhenTheNodeDoesNotCarryOurVtep) {
  NodeStatus status;
  status.node_ip = "192.168.1.12/24";
  status.vtep_mac = "0A:11:22:33:44:55";
  status.vni = 1;
  // Same meaning, other case and spacing: nothing to write.
  EXPECT_EQ(flannel_annotation_patch(
                flannel_node(R"({ "VtepMAC": "0a:11:22:33:44:55", "VNI": 1 })"), status),
            std::nullopt);
  nlohmann::json bare = flannel_node();
  bare["metadata"].erase("annotations");
  const auto patch = flannel_annotation_patch(bare, status);
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->dump(), R"({"metadata":{"annotations":{"flannel.alpha.coreos.com/backend-data":)"
                           R"("{\"VNI\":1,\"VtepMAC\":\"0a:11:22:33:44:55\"}",)"
                           R"("flannel.alpha.coreos.com/backend-type":"vxlan",)"
                           R"("flannel.alpha.coreos.com/public-ip":"192.168.1.12"}}})");
  // Any one field differing rewrites all three.
  status.vni = 2;
  EXPECT_TRUE(flannel_annotation_patch(flannel_node(), status));
  status.vni = 1;
  status.node_ip = "192.168.1.13/24";
  EXPECT_TRUE(flannel_annotation_patch(flannel_node(), status));
  status.node_ip = "192.168.1.12/24";
  status.vtep_mac = "0a:11:22:33:44:56";
  EXPECT_TRUE(flannel_annotation_patch(flannel_node(), status));
}

}  // namespace
}  // namespace podvs::agent
