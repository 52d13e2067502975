// The gRPC layer alone: an in-memory ControlPlane stands in for the switch, so these tests check
// translation, status mapping, socket handling and podvsctl's behaviour end to end.
#include "control/server/grpc_server.h"

#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "control/api/grpc_convert.h"
#include "control/api/service_spec.h"
#include "podvs.grpc.pb.h"
#include "tests/unit/grpc_fixture.h"

namespace podvs {
namespace {

using namespace grpc_test;

v1::PodSpec full_spec(const std::string& id) {
  v1::PodSpec spec;
  spec.set_id(id);
  spec.set_netns("/var/run/netns/" + id);
  spec.set_ifname("net1");
  spec.set_kind(v1::PORT_KIND_VHOST_USER);
  spec.set_vhost_server(true);
  spec.set_k8s_namespace("default");
  spec.set_k8s_name("web-" + id);
  spec.set_owner("cni:podvs");
  spec.set_queues(4);
  return spec;
}

TEST_F(GrpcServerTest, PodRoundTripPreservesEveryField) {
  GrpcServer server(control_, socket_);
  server.start();
  auto client = stub();

  v1::AddPodRequest add;
  *add.mutable_spec() = full_spec("pod-a");
  v1::AddPodResponse added;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->AddPod(&context, add, &added).ok());
  }
  const auto sent = from_proto(add.spec());
  ASSERT_TRUE(sent.is_ok());
  expect_same(*control_.last_spec(), *sent.value);
  const auto stored = control_.get_pod("pod-a");
  ASSERT_TRUE(stored.is_ok());
  const auto added_pod = from_proto(added.pod());
  ASSERT_TRUE(added_pod.is_ok());
  expect_same(*added_pod.value, *stored.value);

  v1::GetPodRequest get;
  get.set_id("pod-a");
  v1::GetPodResponse got;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->GetPod(&context, get, &got).ok());
  }
  expect_same(*from_proto(got.pod()).value, *stored.value);

  v1::ListPodsResponse listed;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->ListPods(&context, {}, &listed).ok());
  }
  ASSERT_EQ(listed.pods_size(), 1);
  expect_same(*from_proto(listed.pods(0)).value, *stored.value);

  v1::DelPodRequest del;
  del.set_id("pod-a");
  for (int i = 0; i < 2; ++i) {  // the second delete is of an unknown pod: still OK
    grpc::ClientContext context;
    with_deadline(context);
    v1::DelPodResponse deleted;
    EXPECT_TRUE(client->DelPod(&context, del, &deleted).ok());
  }
  grpc::ClientContext context;
  with_deadline(context);
  const grpc::Status status = client->GetPod(&context, get, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "pod pod-a is not on this node");
}

TEST_F(GrpcServerTest, UnsetIfnameAndKindMeanEth0AndTap) {
  GrpcServer server(control_, socket_);
  server.start();
  v1::AddPodRequest add;
  add.mutable_spec()->set_id("pod-min");
  v1::AddPodResponse added;
  grpc::ClientContext context;
  with_deadline(context);
  ASSERT_TRUE(stub()->AddPod(&context, add, &added).ok());
  EXPECT_EQ(control_.last_spec()->ifname, "eth0");
  EXPECT_EQ(control_.last_spec()->kind, PortKind::tap);
  EXPECT_EQ(added.pod().spec().kind(), v1::PORT_KIND_TAP);
}

TEST_F(GrpcServerTest, UnknownKindIsInvalidArgumentBeforeTheControlPlane) {
  GrpcServer server(control_, socket_);
  server.start();
  v1::AddPodRequest add;
  add.mutable_spec()->set_id("pod-x");
  add.mutable_spec()->set_kind(static_cast<v1::PortKind>(42));
  v1::AddPodResponse added;
  grpc::ClientContext context;
  with_deadline(context);
  const grpc::Status status = stub()->AddPod(&context, add, &added);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "PodSpec.kind of pod 'pod-x' is 42, which is not a known port kind; expected "
            "PORT_KIND_TAP (1), PORT_KIND_VHOST_USER (2) or PORT_KIND_HOST (3)");
  EXPECT_FALSE(control_.last_spec().has_value());
}

TEST_F(GrpcServerTest, ServiceRoundTripPreservesEveryField) {
  GrpcServer server(control_, socket_);
  server.start();
  auto client = stub();
  v1::AddServiceRequest add;
  *add.mutable_service() = to_proto(sample_service());
  v1::AddServiceResponse added;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->AddService(&context, add, &added).ok());
  }
  expect_same(*control_.last_service(), sample_service());
  const auto answer = from_proto(added.service());
  ASSERT_TRUE(answer.is_ok()) << answer.error.message;
  expect_same(*answer.value, sample_service());

  ServiceSpec second = sample_service();
  second.ns = "default";
  v1::ListServicesResponse listed;
  {
    *add.mutable_service() = to_proto(second);
    grpc::ClientContext add_context;
    with_deadline(add_context);
    ASSERT_TRUE(client->AddService(&add_context, add, &added).ok());
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->ListServices(&context, {}, &listed).ok());
  }
  ASSERT_EQ(listed.services_size(), 2);
  expect_same(*from_proto(listed.services(0)).value, second);
  expect_same(*from_proto(listed.services(1)).value, sample_service());

  v1::DelServiceRequest del;
  del.set_namespace_("kube-system");
  del.set_name("dns");
  for (int i = 0; i < 2; ++i) {  // the second delete is of an unknown Service: still OK
    grpc::ClientContext context;
    with_deadline(context);
    v1::DelServiceResponse deleted;
    EXPECT_TRUE(client->DelService(&context, del, &deleted).ok());
  }
  EXPECT_EQ(control_.service_count(), 1u);
}

TEST_F(GrpcServerTest, UnsetServiceFieldsTakeKubernetesDefaults) {
  GrpcServer server(control_, socket_);
  server.start();
  v1::AddServiceRequest add;
  v1::Service* service = add.mutable_service();
  service->set_namespace_("default");
  service->set_name("web");
  service->set_cluster_ip("10.96.0.20");
  service->add_ports()->set_port(80);
  service->add_endpoints()->set_ip("10.244.0.5");
  v1::AddServiceResponse added;
  grpc::ClientContext context;
  with_deadline(context);
  ASSERT_TRUE(stub()->AddService(&context, add, &added).ok());
  const ServiceSpec got = *control_.last_service();
  EXPECT_EQ(got.ports[0].protocol, ServiceProto::tcp);
  EXPECT_EQ(got.ports[0].target_port, 0);  // the converter passes 0 on: it means "= port"
  EXPECT_TRUE(got.endpoints[0].ready);
  EXPECT_TRUE(got.endpoints[0].serving);
  EXPECT_FALSE(got.endpoints[0].terminating);
  EXPECT_FALSE(got.client_ip_affinity);
  EXPECT_EQ(got.affinity_timeout_s, 10800u);
  EXPECT_EQ(got.external_traffic_policy, TrafficPolicy::cluster);
  EXPECT_EQ(got.internal_traffic_policy, TrafficPolicy::cluster);
  // The answer is explicit everywhere.
  const v1::Service& answer = added.service();
  EXPECT_EQ(answer.ports(0).protocol(), v1::SERVICE_PROTOCOL_TCP);
  EXPECT_EQ(answer.ports(0).target_port(), 80u);
  EXPECT_TRUE(answer.endpoints(0).has_ready() && answer.endpoints(0).ready());
  EXPECT_TRUE(answer.endpoints(0).has_terminating() && !answer.endpoints(0).terminating());
  EXPECT_EQ(answer.affinity_timeout_s(), 10800u);
  EXPECT_EQ(answer.external_traffic_policy(), v1::TRAFFIC_POLICY_CLUSTER);
}

TEST_F(GrpcServerTest, MalformedServicesAreInvalidArgumentBeforeTheControlPlane) {
  GrpcServer server(control_, socket_);
  server.start();
  using Change = std::function<void(v1::Service&)>;
  const std::vector<std::pair<Change, std::string>> cases = {
      {[](v1::Service& s) { s.mutable_ports(1)->set_port(70000); },
       "Service kube-system/dns ports[1].port is 70000; it must be 1..65535"},
      {[](v1::Service& s) { s.mutable_ports(0)->set_target_port(65536); },
       "Service kube-system/dns ports[0].target_port is 65536; it must be 0 (the same as port) or "
       "1..65535"},
      {[](v1::Service& s) { s.mutable_ports(0)->set_node_port(100000); },
       "Service kube-system/dns ports[0].node_port is 100000; it must be 0 (none) or 1..65535"},
      {[](v1::Service& s) { s.mutable_endpoints(1)->mutable_ports(0)->set_port(65536); },
       "Service kube-system/dns endpoints[1].ports[0].port is 65536; it must be 1..65535"},
      {[](v1::Service& s) {
         s.mutable_ports(1)->set_protocol(static_cast<v1::ServiceProtocol>(9));
       },
       "Service kube-system/dns ports[1].protocol is 9, which is not a known protocol; expected "
       "SERVICE_PROTOCOL_TCP (1) or SERVICE_PROTOCOL_UDP (2)"},
      {[](v1::Service& s) { s.set_external_traffic_policy(static_cast<v1::TrafficPolicy>(7)); },
       "Service kube-system/dns external_traffic_policy is 7, which is not a known traffic "
       "policy; expected TRAFFIC_POLICY_CLUSTER (1) or TRAFFIC_POLICY_LOCAL (2)"},
      {[](v1::Service& s) { s.set_internal_traffic_policy(static_cast<v1::TrafficPolicy>(3)); },
       "Service kube-system/dns internal_traffic_policy is 3, which is not a known traffic "
       "policy; expected TRAFFIC_POLICY_CLUSTER (1) or TRAFFIC_POLICY_LOCAL (2)"},
  };
  for (const auto& [change, expected] : cases) {
    v1::AddServiceRequest add;
    *add.mutable_service() = to_proto(sample_service());
    change(*add.mutable_service());
    v1::AddServiceResponse added;
    grpc::ClientContext context;
    with_deadline(context);
    const grpc::Status status = stub()->AddService(&context, add, &added);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << expected;
    EXPECT_EQ(status.error_message(), expected);
  }
  EXPECT_FALSE(control_.last_service().has_value());
}

TEST_F(GrpcServerTest, PortsAndStatsRoundTrip) {
  const SwitchStats expected = sample_stats();
  control_.set_stats(expected);
  GrpcServer server(control_, socket_);
  server.start();
  auto client = stub();

  v1::ListPortsResponse ports;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->ListPorts(&context, {}, &ports).ok());
  }
  ASSERT_EQ(ports.ports_size(), 3);
  for (int i = 0; i < 3; ++i) expect_same(*from_proto(ports.ports(i)).value, expected.ports[i]);

  v1::GetStatsResponse stats;
  {
    grpc::ClientContext context;
    with_deadline(context);
    ASSERT_TRUE(client->GetStats(&context, {}, &stats).ok());
  }
  const auto got = from_proto(stats.stats());
  ASSERT_TRUE(got.is_ok());
  ASSERT_EQ(got.value->workers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) expect_same(got.value->workers[i], expected.workers[i]);
  ASSERT_EQ(got.value->ports.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_same(got.value->ports[i], expected.ports[i]);
  expect_same(got.value->drops, expected.drops);
  EXPECT_EQ(got.value->mbufs_total, expected.mbufs_total);
  EXPECT_EQ(got.value->mbufs_in_use, expected.mbufs_in_use);
  EXPECT_EQ(got.value->tsc_hz, expected.tsc_hz);

  grpc::ClientContext context;
  with_deadline(context);
  v1::ClearStatsResponse cleared;
  ASSERT_TRUE(client->ClearStats(&context, {}, &cleared).ok());
  EXPECT_EQ(control_.clears(), 1);
}

TEST_F(GrpcServerTest, EveryErrorCodeAndMessagePassThroughEveryRpc) {
  GrpcServer server(control_, socket_);
  server.start();
  auto client = stub();
  using Rpc = std::function<grpc::Status(grpc::ClientContext*)>;
  const std::vector<std::pair<const char*, Rpc>> rpcs = {
      {"AddPod",
       [&](grpc::ClientContext* c) {
         v1::AddPodRequest request;
         request.mutable_spec()->set_id("p");
         v1::AddPodResponse response;
         return client->AddPod(c, request, &response);
       }},
      {"DelPod",
       [&](grpc::ClientContext* c) {
         v1::DelPodResponse response;
         return client->DelPod(c, {}, &response);
       }},
      {"GetPod",
       [&](grpc::ClientContext* c) {
         v1::GetPodResponse response;
         return client->GetPod(c, {}, &response);
       }},
      {"ListPods",
       [&](grpc::ClientContext* c) {
         v1::ListPodsResponse response;
         return client->ListPods(c, {}, &response);
       }},
      {"ListPorts",
       [&](grpc::ClientContext* c) {
         v1::ListPortsResponse response;
         return client->ListPorts(c, {}, &response);
       }},
      {"GetStats",
       [&](grpc::ClientContext* c) {
         v1::GetStatsResponse response;
         return client->GetStats(c, {}, &response);
       }},
      {"ClearStats",
       [&](grpc::ClientContext* c) {
         v1::ClearStatsResponse response;
         return client->ClearStats(c, {}, &response);
       }},
      {"AddService",
       [&](grpc::ClientContext* c) {
         v1::AddServiceRequest request;
         *request.mutable_service() = to_proto(sample_service());
         v1::AddServiceResponse response;
         return client->AddService(c, request, &response);
       }},
      {"DelService",
       [&](grpc::ClientContext* c) {
         v1::DelServiceResponse response;
         return client->DelService(c, {}, &response);
       }},
      {"ListServices",
       [&](grpc::ClientContext* c) {
         v1::ListServicesResponse response;
         return client->ListServices(c, {}, &response);
       }},
      {"SetPodCidr",
       [&](grpc::ClientContext* c) {
         v1::SetPodCidrRequest request;
         request.set_pod_cidr("10.244.3.0/24");
         v1::SetPodCidrResponse response;
         return client->SetPodCidr(c, request, &response);
       }},
  };
  const std::vector<std::pair<ErrorCode, grpc::StatusCode>> codes = {
      {ErrorCode::invalid_argument, grpc::StatusCode::INVALID_ARGUMENT},
      {ErrorCode::not_found, grpc::StatusCode::NOT_FOUND},
      {ErrorCode::already_exists, grpc::StatusCode::ALREADY_EXISTS},
      {ErrorCode::resource_exhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {ErrorCode::failed_precondition, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::internal, grpc::StatusCode::INTERNAL},
  };
  for (const auto& [code, grpc_code] : codes) {
    const std::string message = "sentence for code " + std::to_string(static_cast<int>(code)) +
                                ": the pod CIDR 10.244.0.0/24 is full";
    control_.force_error(Error{code, message});
    for (const auto& [name, rpc] : rpcs) {
      grpc::ClientContext context;
      with_deadline(context);
      const grpc::Status status = rpc(&context);
      EXPECT_EQ(status.error_code(), grpc_code) << name;
      EXPECT_EQ(status.error_message(), message) << name;
    }
  }
}

TEST_F(GrpcServerTest, SocketIsRootOnlyInA0755Directory) {
  GrpcServer server(control_, socket_);
  server.start();
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_ / "run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(GrpcServerTest, StaleSocketIsReplaced) {
  fs::create_directories(dir_ / "run");
  // A socket that was bound and never unlinked, as a crashed podvsd leaves it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(fs::is_socket(socket_));

  GrpcServer server(control_, socket_);
  server.start();
  grpc::ClientContext context;
  with_deadline(context);
  v1::ListPodsResponse listed;
  EXPECT_TRUE(stub()->ListPods(&context, {}, &listed).ok());
}

TEST_F(GrpcServerTest, RefusesThePathOfALiveServer) {
  GrpcServer first(control_, socket_);
  first.start();
  GrpcServer second(control_, socket_);
  try {
    second.start();
    FAIL() << "a second server took over a live socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(socket_), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("listening"), std::string::npos) << e.what();
  }
  grpc::ClientContext context;
  with_deadline(context);
  v1::ListPodsResponse listed;
  EXPECT_TRUE(stub()->ListPods(&context, {}, &listed).ok());
}

TEST_F(GrpcServerTest, RefusesToRemoveAFileThatIsNotASocket) {
  fs::create_directories(dir_ / "run");
  std::ofstream(socket_) << "not a socket";
  GrpcServer server(control_, socket_);
  EXPECT_THROW(server.start(), std::runtime_error);
  EXPECT_EQ(slurp(socket_), "not a socket");
}

TEST_F(GrpcServerTest, RefusesAPathTooLongForAUnixSocket) {
  GrpcServer server(control_, (dir_ / std::string(120, 's')).string());
  try {
    server.start();
    FAIL() << "started on a path longer than sun_path";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shorter than 108 bytes"), std::string::npos) << e.what();
  }
}

TEST_F(GrpcServerTest, ShutdownRemovesTheSocket) {
  {
    GrpcServer server(control_, socket_);
    server.start();
    ASSERT_TRUE(fs::exists(socket_));
    server.shutdown();
    EXPECT_FALSE(fs::exists(socket_));
    server.shutdown();  // idempotent
    server.start();     // and restartable
    EXPECT_TRUE(fs::exists(socket_));
  }
  EXPECT_FALSE(fs::exists(socket_));  // the destructor shut it down
}

TEST_F(GrpcServerTest, ConcurrentAddPodAllAnswered) {
  GrpcServer server(control_, socket_);
  server.start();
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto client = stub();
      v1::AddPodRequest add;
      add.mutable_spec()->set_id("pod-" + std::to_string(i));
      v1::AddPodResponse added;
      grpc::ClientContext context;
      with_deadline(context);
      if (client->AddPod(&context, add, &added).ok()) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(control_.pod_count(), static_cast<size_t>(kThreads));
}

TEST_F(GrpcServerTest, PodvsctlAddsAndListsPodsAsJson) {
  GrpcServer server(control_, socket_);
  server.start();
  const CliRun add = podvsctl({"--socket", socket_, "pod", "add", "--id", "pod-a", "--kind",
                               "vhost-user", "--k8s-namespace", "default", "--k8s-name", "web"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("10.244.0.1"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("/run/podvs/vhost/pod-a"), std::string::npos) << add.out;
  EXPECT_EQ(add.err, "");

  const CliRun list = podvsctl({"--socket", socket_, "pod", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.front(), '[') << list.out;
  for (const char* expected :
       {R"("id": "pod-a")", R"("ip": "10.244.0.1")", R"("kind": "vhost-user")",
        R"("k8s_name": "web")", R"("socket_path": "/run/podvs/vhost/pod-a")"})
    EXPECT_NE(list.out.find(expected), std::string::npos) << expected << " in " << list.out;
}

TEST_F(GrpcServerTest, PodvsctlShowsPortsAndStats) {
  control_.set_stats(sample_stats());
  GrpcServer server(control_, socket_);
  server.start();
  const CliRun ports = podvsctl({"--socket", socket_, "port", "list"});
  ASSERT_EQ(ports.exit_code, 0) << ports.err;
  EXPECT_EQ(ports.out.rfind("PORT ", 0), 0u) << ports.out;
  EXPECT_NE(ports.out.find("vhost_b"), std::string::npos) << ports.out;

  const CliRun stats = podvsctl({"--socket", socket_, "stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  for (const char* expected : {"FLOW_HITS", "41.7%", "ttl_exceeded", "1234 in use of 16384"})
    EXPECT_NE(stats.out.find(expected), std::string::npos) << expected << " in " << stats.out;

  const CliRun clear = podvsctl({"--socket", socket_, "stats", "--clear"});
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  EXPECT_EQ(control_.clears(), 1);
}

TEST_F(GrpcServerTest, PodvsctlReportsTheServersMessage) {
  GrpcServer server(control_, socket_);
  server.start();
  const CliRun run = podvsctl({"--socket", socket_, "pod", "get", "--id", "nope"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "podvsctl: pod nope is not on this node\n");
}

TEST_F(GrpcServerTest, PodvsctlSaysWhenPodvsdIsUnreachable) {
  const CliRun run = podvsctl({"--socket", socket_, "--timeout", "5", "pod", "list"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err.rfind("podvsctl: cannot reach podvsd at " + socket_ + ": ", 0), 0u) << run.err;
  EXPECT_NE(run.err.find("(is podvsd running?)"), std::string::npos) << run.err;
}

TEST_F(GrpcServerTest, PodvsctlAddsListsAndDeletesServices) {
  GrpcServer server(control_, socket_);
  server.start();
  const CliRun add =
      podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip", "10.96.0.10",
                "--port", "http=tcp:80:8080", "--port", "udp:53", "--endpoint", "10.244.0.5",
                "--endpoint", "10.244.0.6:terminating", "--affinity", "client-ip:600",
                "--external-traffic-policy", "local"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.err, "");
  EXPECT_EQ(add.out,
            "SERVICE      CLUSTER_IP  EXTERNAL_IPS  PORTS                       ENDPOINTS     "
            "AFFINITY       EXTERNAL_POLICY  INTERNAL_POLICY  OWNER\n"
            "default/web  10.96.0.10  -             http=tcp:80:8080,udp:53:53  1 ready of 2  "
            "client-ip:600  local            cluster          -\n");
  const ServiceSpec sent = *control_.last_service();
  ASSERT_EQ(sent.endpoints.size(), 2u);
  EXPECT_FALSE(sent.endpoints[1].ready);
  EXPECT_TRUE(sent.endpoints[1].serving);
  EXPECT_TRUE(sent.endpoints[1].terminating);

  const CliRun list = podvsctl({"--socket", socket_, "service", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* expected :
       {R"("namespace": "default")", R"("name": "web")", R"("protocol": "udp")",
        R"("target_port": 53)", R"("terminating": true)", R"("affinity_timeout_s": 600)",
        R"("external_traffic_policy": "local")"})
    EXPECT_NE(list.out.find(expected), std::string::npos) << expected << " in " << list.out;

  const CliRun del = podvsctl({"--socket", socket_, "service", "del", "default/web"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "service default/web deleted\n");
  EXPECT_EQ(control_.service_count(), 0u);
  const CliRun again = podvsctl({"--socket", socket_, "service", "del", "default/web"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(GrpcServerTest, PodvsctlServiceErrors) {
  GrpcServer server(control_, socket_);
  server.start();
  // Refused before anything is sent: a command-line error.
  CliRun run = podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip",
                         "10.96.0.10", "--port", "tcp:80:70000"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("--port 'tcp:80:70000': TARGET '70000' is not a port number in 1..65535"),
            std::string::npos)
      << run.err;
  run = podvsctl({"--socket", socket_, "service", "del", "web"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("service 'web' is not NS/NAME, such as default/web"), std::string::npos)
      << run.err;
  EXPECT_FALSE(control_.last_service().has_value());
  // Refused by podvsd: its sentence, exit 1.
  control_.force_error(Error{ErrorCode::already_exists,
                             "service default/web: 10.96.0.10:80/tcp is already served by "
                             "service default/other"});
  run = podvsctl({"--socket", socket_, "service", "add", "default/web", "--cluster-ip",
                  "10.96.0.10", "--port", "tcp:80"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "podvsctl: service default/web: 10.96.0.10:80/tcp is already served by service "
            "default/other\n");
}

TEST_F(GrpcServerTest, PodvsctlLoadsServicesFromAFile) {
  GrpcServer server(control_, socket_);
  server.start();
  const fs::path file = dir_ / "services.txt";
  std::ofstream(file) << "# ns/name and the arguments of `service add`\n"
                         "\n"
                         "default/web --cluster-ip 10.96.0.10 --port http=tcp:80:8080 "
                         "--endpoint 10.244.0.5\n"
                         "   \t\n"
                         "  # indented comment\n"
                         "default/dns --cluster-ip 10.96.0.11 --port udp:53 --endpoint 10.244.0.6\n"
                         "kube-system/api --cluster-ip 10.96.0.1 --port tcp:443:6443\n";
  const CliRun run = podvsctl({"--socket", socket_, "service", "load", file.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("programmed 3 services in ", 0), 0u) << run.out;
  EXPECT_NE(run.out.find(" per second)\n"), std::string::npos) << run.out;
  EXPECT_EQ(control_.service_count(), 3u);
  EXPECT_EQ(control_.last_service()->name, "api");
}

TEST_F(GrpcServerTest, PodvsctlLoadSendsNothingWhenALineIsBad) {
  GrpcServer server(control_, socket_);
  server.start();
  const fs::path file = dir_ / "services.txt";
  std::ofstream(file) << "default/a --cluster-ip 10.96.0.10 --port tcp:80\n"
                         "# fine so far\n"
                         "default/b --cluster-ip 10.96.0.11 --port tcp:80\n"
                         "default/c --cluster-ip 10.96.0.12 --port tcp:80 --endpoint 10.1.1\n"
                         "default/d --cluster-ip 10.96.0.13\n";
  const CliRun run = podvsctl({"--socket", socket_, "service", "load", file.string()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "podvsctl: " + file.string() +
                         ":4: --endpoint '10.1.1': '10.1.1' is not an IPv4 address\n" +
                         file.string() + ":5: --port is required\nnothing was sent to podvsd\n");
  EXPECT_FALSE(control_.last_service().has_value());

  const CliRun missing =
      podvsctl({"--socket", socket_, "service", "load", (dir_ / "none.txt").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "podvsctl: cannot read " + (dir_ / "none.txt").string() +
                             ": No such file or directory\n");
}

TEST_F(GrpcServerTest, PodvsctlLoadNamesTheLinePodvsdRefused) {
  GrpcServer server(control_, socket_);
  server.start();
  const fs::path file = dir_ / "services.txt";
  std::ofstream(file) << "default/a --cluster-ip 10.96.0.10 --port tcp:80\n";
  control_.force_error(Error{ErrorCode::resource_exhausted, "podvsd is full"});
  const CliRun run = podvsctl({"--socket", socket_, "service", "load", file.string()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "podvsctl: " + file.string() +
                         ":1: podvsd is full (services programmed before it: 0)\n");
}

TEST_F(GrpcServerTest, PodvsctlUsageErrorsExit2) {
  const CliRun run = podvsctl({"--socket", socket_, "pod", "add", "--kind", "veth"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err, "");
}

}  // namespace
}  // namespace podvs
