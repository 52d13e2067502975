// What podvs-agent relies on over the wire, through the gRPC server and through podvsctl:
// endpoints' own ports.
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

  std::unique_ptr<GrpcServer> server_;
};

TEST_F(AgentApiTest, PodvsctlSendsEndpointPorts) {
  const CliRun add =
      podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip", "10.96.0.10",
                "--port", "http=tcp:80:8080", "--endpoint", "10.244.0.5@http=9090", "--endpoint",
                "10.244.0.6:terminating@http=8081,metrics=9100"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const ServiceSpec sent = *control_.last_service();
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
  for (const char* expected : {R"("name": "metrics")", R"("port": 9100)", R"("port": 9090)"})
    EXPECT_NE(list.out.find(expected), std::string::npos) << expected << " in " << list.out;
}

}  // namespace
}  // namespace podvs
