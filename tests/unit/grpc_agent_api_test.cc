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

TEST_F(AgentApiTest, AddServicesAnswersEachServiceInOrderAndOneBadBlocksNoOther) {
  v1::AddServicesRequest request;
  ServiceSpec first = sample_service();
  ServiceSpec last = sample_service();
  last.name = "dns-2";
  *request.add_services() = to_proto(first);
  v1::Service bad = to_proto(sample_service());
  bad.set_name("bad");
  bad.mutable_ports(0)->set_port(70000);
  *request.add_services() = bad;
  *request.add_services() = to_proto(last);
  v1::AddServicesResponse response;
  grpc::ClientContext context;
  with_deadline(context);
  ASSERT_TRUE(stub()->AddServices(&context, request, &response).ok());
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(0).service().name(), "dns");
  EXPECT_EQ(response.results(1).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(response.results(1).error().find("70000"), std::string::npos)
      << response.results(1).error();
  EXPECT_FALSE(response.results(1).has_service());
  EXPECT_EQ(response.results(2).code(), 0);
  EXPECT_EQ(response.results(2).service().name(), "dns-2");
  EXPECT_EQ(control_.service_count(), 2u);
}

TEST_F(AgentApiTest, AddServicesFailsWholeOnlyWhenPodvsdCannotTakeRequests) {
  control_.force_error(Error{ErrorCode::internal, "podvsd is shutting down"});
  v1::AddServicesRequest request;
  *request.add_services() = to_proto(sample_service());
  v1::AddServicesResponse response;
  grpc::ClientContext context;
  with_deadline(context);
  const grpc::Status status = stub()->AddServices(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "podvsd is shutting down");
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

TEST_F(AgentApiTest, ReportAgentAnswersWithTheInstanceAndShowsInStatus) {
  const AgentReport sent{"podvs-agent", "0.1.0", 4242, true, 1796198401, 12, 3};
  v1::ReportAgentRequest request;
  *request.mutable_report() = to_proto(sent);
  v1::ReportAgentResponse response;
  grpc::ClientContext context;
  with_deadline(context);
  ASSERT_TRUE(stub()->ReportAgent(&context, request, &response).ok());
  EXPECT_EQ(response.instance_id(), FakeControlPlane::kInstanceId);

  v1::GetStatusResponse status;
  grpc::ClientContext status_context;
  with_deadline(status_context);
  ASSERT_TRUE(stub()->GetStatus(&status_context, v1::GetStatusRequest{}, &status).ok());
  const NodeStatus got = from_proto(status.status());
  EXPECT_EQ(got.instance_id, FakeControlPlane::kInstanceId);
  ASSERT_EQ(got.agents.size(), 1u);
  const AgentReport& r = got.agents[0].report;
  EXPECT_EQ(r.name, sent.name);
  EXPECT_EQ(r.version, sent.version);
  EXPECT_EQ(r.pid, sent.pid);
  EXPECT_EQ(r.synced, sent.synced);
  EXPECT_EQ(r.last_sync_unix_s, sent.last_sync_unix_s);
  EXPECT_EQ(r.services, sent.services);
  EXPECT_EQ(r.nodes, sent.nodes);
  EXPECT_EQ(got.agents[0].report_age_s, 3.5);
}

TEST_F(AgentApiTest, ReportAgentRefusalKeepsItsCodeAndSentence) {
  const std::string message =
      "agent name 'Agent' is not a DNS-1123 label: use 1 to 63 "
      "lowercase letters, digits or '-', starting and ending with a "
      "letter or digit";
  control_.force_error(Error{ErrorCode::invalid_argument, message});
  v1::ReportAgentRequest request;
  request.mutable_report()->set_name("Agent");
  v1::ReportAgentResponse response;
  grpc::ClientContext context;
  with_deadline(context);
  const grpc::Status status = stub()->ReportAgent(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), message);
}

TEST_F(AgentApiTest, PodvsctlStatusShowsTheAgentOrNone) {
  const CliRun none = podvsctl({"--socket", socket_, "status"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("agent: none\n"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("fedcba9876543210\n"), std::string::npos) << none.out;

  ASSERT_TRUE(
      control_.report_agent({"podvs-agent", "0.1.0", 4242, true, 1796198401, 12, 3}).is_ok());
  const CliRun shown = podvsctl({"--socket", socket_, "status"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("agent podvs-agent: connected (report 3s ago), synced, last sync "
                           "2026-12-02T08:00:01Z, 12 services, 3 nodes, pid 4242, version 0.1.0\n"),
            std::string::npos)
      << shown.out;

  const CliRun json = podvsctl({"--socket", socket_, "--json", "status"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  for (const char* expected : {R"("instance_id": 18364758544493064720)", R"("name": "podvs-agent")",
                               R"("connected": true)", R"("last_sync_unix_s": 1796198401)",
                               R"("report_age_s": 3.5)", R"("synced": true)"})
    EXPECT_NE(json.out.find(expected), std::string::npos) << expected << " in " << json.out;
}

TEST_F(AgentApiTest, PodvsctlSendsAndListsExternalIps) {
  const CliRun add = podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip",
                               "10.96.0.10", "--external-ip", "203.0.113.10", "--external-ip",
                               "198.51.100.7", "--port", "tcp:80"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(control_.last_service()->external_ips,
            (std::vector<std::string>{"203.0.113.10", "198.51.100.7"}));
  const CliRun table = podvsctl({"--socket", socket_, "service", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("EXTERNAL_IPS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("203.0.113.10,198.51.100.7"), std::string::npos) << table.out;
  const CliRun json = podvsctl({"--socket", socket_, "--json", "service", "list"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("external_ips": [)"), std::string::npos) << json.out;

  const CliRun bad = podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip",
                               "10.96.0.10", "--external-ip", "203.0.113.300", "--port", "tcp:80"});
  EXPECT_EQ(bad.exit_code, 2);  // refused before sending, as every invalid Service is
  EXPECT_NE(bad.err.find("external_ips[0] '203.0.113.300' is not an IPv4 address"),
            std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace podvs
