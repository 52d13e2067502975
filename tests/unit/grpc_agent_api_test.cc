// What podvs-agent relies on over the wire: SetPodCidr, owners on Services and remote nodes (and
// the optional owner of deletes and lists, whose presence must survive the trip), and endpoints'
// own ports; each through the gRPC server and through podvsctl.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "control/server/grpc_server.h"
#include "tests/unit/grpc_fixture.h"

namespace podvs {
namespace {

using namespace grpc_test;

class AgentApiTest : public GrpcServerTest {
 protected:
  void SetUp() override {
    GrpcServerTest::SetUp();
    server_ = std::make_unique<GrpcServer>(control_, socket_);
    server_->start();
  }
  void TearDown() override {
    server_.reset();
    GrpcServerTest::TearDown();
  }

  grpc::Status set_pod_cidr(const std::string& cidr, v1::SetPodCidrResponse* response) {
    v1::SetPodCidrRequest request;
    request.set_pod_cidr(cidr);
    grpc::ClientContext context;
    with_deadline(context);
    return stub()->SetPodCidr(&context, request, response);
  }

  std::unique_ptr<GrpcServer> server_;
};

TEST_F(AgentApiTest, SetPodCidrAnswersWithTheNewStatus) {
  v1::SetPodCidrResponse response;
  ASSERT_TRUE(set_pod_cidr("10.244.3.0/24", &response).ok());
  EXPECT_EQ(response.status().pod_cidr(), "10.244.3.0/24");
  EXPECT_EQ(response.status().gateway_ip(), "169.254.1.1");
}

TEST_F(AgentApiTest, SetPodCidrRefusalIsFailedPreconditionWithItsSentence) {
  const std::string message =
      "the pod CIDR cannot change from 10.244.0.0/24 to 10.244.3.0/24 while 2 pods exist (their "
      "addresses come from it); delete every pod first";
  control_.force_error(Error{ErrorCode::failed_precondition, message});
  v1::SetPodCidrResponse response;
  const grpc::Status status = set_pod_cidr("10.244.3.0/24", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), message);

  const CliRun run = podvsctl({"--socket", socket_, "node", "set-pod-cidr", "10.244.3.0/24"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "podvsctl: " + message + "\n");
}

TEST_F(AgentApiTest, PodvsctlSetsThePodCidr) {
  const CliRun run =
      podvsctl({"--socket", socket_, "--json", "node", "set-pod-cidr", "10.244.7.0/24"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find(R"("pod_cidr": "10.244.7.0/24")"), std::string::npos) << run.out;
  const auto status = control_.status();
  ASSERT_TRUE(status.is_ok());
  EXPECT_EQ(status.value->pod_cidr, "10.244.7.0/24");
}

TEST_F(AgentApiTest, NodeOwnerRoundTrips) {
  v1::AddNodeRequest add;
  *add.mutable_node() = to_proto(RemoteNodeSpec{"n2", "10.244.2.0/24", "192.168.1.12",
                                                "02:00:00:00:00:02", "podvs-agent", "", "", ""});
  v1::AddNodeResponse added;
  grpc::ClientContext context;
  with_deadline(context);
  ASSERT_TRUE(stub()->AddNode(&context, add, &added).ok());
  ASSERT_EQ(control_.nodes.size(), 1u);
  EXPECT_EQ(control_.nodes[0].owner, "podvs-agent");
  EXPECT_EQ(added.node().owner(), "podvs-agent");
}

// proto3 `optional`: an unset owner means every owner, and "" (an operator's) is not the same.
TEST_F(AgentApiTest, DeleteAndListOwnersKeepTheirPresence) {
  {
    v1::ListServicesRequest request;
    v1::ListServicesResponse response;
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(stub()->ListServices(&context, request, &response).ok());
    EXPECT_EQ(control_.owner_asked(), std::nullopt);
  }
  {
    v1::ListServicesRequest request;
    request.set_owner("");
    v1::ListServicesResponse response;
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(stub()->ListServices(&context, request, &response).ok());
    EXPECT_EQ(control_.owner_asked(), std::optional<std::string>(""));
  }
  {
    v1::DelServiceRequest request;
    request.set_namespace_("default");
    request.set_name("web");
    request.set_owner("podvs-agent");
    v1::DelServiceResponse response;
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(stub()->DelService(&context, request, &response).ok());
    EXPECT_EQ(control_.owner_asked(), std::optional<std::string>("podvs-agent"));
  }
  {
    v1::ListNodesRequest request;
    request.set_owner("podvs-agent");
    v1::ListNodesResponse response;
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(stub()->ListNodes(&context, request, &response).ok());
    EXPECT_EQ(control_.owner_asked(), std::optional<std::string>("podvs-agent"));
  }
  {
    v1::DelNodeRequest request;
    request.set_name("n2");
    v1::DelNodeResponse response;
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(stub()->DelNode(&context, request, &response).ok());
    EXPECT_EQ(control_.owner_asked(), std::nullopt);
  }
}

TEST_F(AgentApiTest, PodvsctlOwnerOptions) {
  ASSERT_TRUE(control_.add_service(sample_service()).is_ok());  // owner podvs-agent
  ServiceSpec operators = sample_service();
  operators.ns = "default";
  operators.owner = "";
  ASSERT_TRUE(control_.add_service(operators).is_ok());

  CliRun run = podvsctl({"--socket", socket_, "--json", "service", "list", "--owner", ""});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(control_.owner_asked(), std::optional<std::string>(""));
  EXPECT_NE(run.out.find(R"("namespace": "default")"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find(R"("namespace": "kube-system")"), std::string::npos) << run.out;

  run = podvsctl({"--socket", socket_, "service", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(control_.owner_asked(), std::nullopt);
  EXPECT_NE(run.out.find("  OWNER\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  podvs-agent\n"), std::string::npos) << run.out;

  run = podvsctl({"--socket", socket_, "service", "del", "kube-system/dns", "--owner", "x"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(control_.owner_asked(), std::optional<std::string>("x"));

  run = podvsctl({"--socket", socket_, "node", "add", "--name", "n3", "--pod-cidr", "10.244.3.0/24",
                  "--node-ip", "192.168.1.13", "--vtep-mac", "02:00:00:00:00:03", "--owner",
                  "podvs-agent"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(control_.nodes.size(), 1u);
  EXPECT_EQ(control_.nodes[0].owner, "podvs-agent");
  EXPECT_NE(run.out.find("  OWNER\n"), std::string::npos) << run.out;

  run = podvsctl({"--socket", socket_, "--json", "node", "list", "--owner", "podvs-agent"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(control_.owner_asked(), std::optional<std::string>("podvs-agent"));
  EXPECT_NE(run.out.find(R"("owner": "podvs-agent")"), std::string::npos) << run.out;
  run = podvsctl({"--socket", socket_, "--json", "node", "list", "--owner", ""});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "[]\n");

  run = podvsctl({"--socket", socket_, "node", "del", "--name", "n3", "--owner", "podvs-agent"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(control_.owner_asked(), std::optional<std::string>("podvs-agent"));
  EXPECT_TRUE(control_.nodes.empty());
}

TEST_F(AgentApiTest, PodvsctlSendsEndpointPortsAndOwner) {
  const CliRun add =
      podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip", "10.96.0.10",
                "--port", "http=tcp:80:8080", "--endpoint", "10.244.0.5@http=9090", "--endpoint",
                "10.244.0.6:terminating@http=8081,metrics=9100", "--owner", "podvs-agent"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const ServiceSpec sent = *control_.last_service();
  EXPECT_EQ(sent.owner, "podvs-agent");
  ASSERT_EQ(sent.endpoints.size(), 2u);
  ASSERT_EQ(sent.endpoints[0].ports.size(), 1u);
  EXPECT_EQ(sent.endpoints[0].ports[0].name, "http");
  EXPECT_EQ(sent.endpoints[0].ports[0].port, 9090);
  EXPECT_TRUE(sent.endpoints[1].terminating);
  ASSERT_EQ(sent.endpoints[1].ports.size(), 2u);
  EXPECT_EQ(sent.endpoints[1].ports[1].name, "metrics");
  EXPECT_EQ(sent.endpoints[1].ports[1].port, 9100);

  const CliRun list = podvsctl({"--socket", socket_, "--json", "service", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* expected :
       {R"("owner": "podvs-agent")", R"("name": "metrics")", R"("port": 9100)", R"("port": 9090)"})
    EXPECT_NE(list.out.find(expected), std::string::npos) << expected << " in " << list.out;
}

}  // namespace
}  // namespace podvs
