// What the gRPC tests share: an in-memory ControlPlane standing in for the switch, field-by-field
// comparisons, sample values with a distinct non-default value in every field, and a fixture that
// serves on a fresh socket and runs the real podvsctl against it.
#pragma once

#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "control/api/grpc_convert.h"
#include "control/api/owner.h"
#include "control/api/service_spec.h"
#include "podvs.grpc.pb.h"
#include "tests/unit/service_spec_compare.h"

extern char** environ;

namespace podvs::grpc_test {

namespace fs = std::filesystem;
using test::expect_same;

class FakeControlPlane : public ControlPlane {
 public:
  Result<PodInfo> add_pod(const PodSpec& spec) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    last_spec_ = spec;
    if (pods_.count(spec.id))
      return Result<PodInfo>::fail(ErrorCode::already_exists, "pod " + spec.id + " exists");
    const int n = static_cast<int>(pods_.size()) + 1;
    PodInfo pod;
    pod.spec = spec;
    pod.ip = "10.244.0." + std::to_string(n);
    pod.mac = "02:00:00:00:00:" + std::string(n < 16 ? "0" : "") + std::to_string(n);
    pod.gateway_ip = "169.254.1.1";
    pod.mtu = 1450;
    pod.port_name = "tap_" + spec.id;
    pod.port_id = n;
    if (spec.kind == PortKind::vhost_user) pod.socket_path = "/run/podvs/vhost/" + spec.id;
    pod.status = "up";
    pods_[spec.id] = pod;
    return Result<PodInfo>::ok(pod);
  }
  Result<Empty> del_pod(const std::string& id) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    pods_.erase(id);
    return Result<Empty>::ok({});
  }
  Result<PodInfo> get_pod(const std::string& id) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    auto it = pods_.find(id);
    if (it == pods_.end())
      return Result<PodInfo>::fail(ErrorCode::not_found, "pod " + id + " is not on this node");
    return Result<PodInfo>::ok(it->second);
  }
  Result<std::vector<PodInfo>> list_pods() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    std::vector<PodInfo> pods;
    for (const auto& [id, pod] : pods_) pods.push_back(pod);
    return Result<std::vector<PodInfo>>::ok(pods);
  }
  Result<std::vector<PortStats>> list_ports() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    return Result<std::vector<PortStats>>::ok(stats_.ports);
  }
  Result<SwitchStats> stats() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    return Result<SwitchStats>::ok(stats_);
  }
  Result<Empty> clear_stats() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    ++clears_;
    return Result<Empty>::ok({});
  }
  Result<std::vector<RecentDrop>> recent_drops() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    return Result<std::vector<RecentDrop>>::ok(
        {{1700000000000000000, 0, "net_tap_p0", "pod-a", "spoofed_source", 60, "\x0a\x58"}});
  }
  Result<RemoteNodeSpec> add_node(const RemoteNodeSpec& node) override {
    std::lock_guard lock(mutex_);
    if (node.name.empty())
      return Result<RemoteNodeSpec>::fail(ErrorCode::invalid_argument, "node name is empty");
    nodes.push_back(node);
    return Result<RemoteNodeSpec>::ok(node);
  }
  Result<Empty> del_node(const std::string& name,
                         const std::optional<std::string>& owner) override {
    std::lock_guard lock(mutex_);
    owner_asked_ = owner;
    std::erase_if(nodes, [&](const RemoteNodeSpec& n) {
      return n.name == name && owner_selected(owner, n.owner);
    });
    return Result<Empty>::ok({});
  }
  Result<std::vector<RemoteNodeSpec>> list_nodes(const std::optional<std::string>& owner) override {
    std::lock_guard lock(mutex_);
    owner_asked_ = owner;
    std::vector<RemoteNodeSpec> out;
    for (const RemoteNodeSpec& n : nodes)
      if (owner_selected(owner, n.owner)) out.push_back(n);
    return Result<std::vector<RemoteNodeSpec>>::ok(out);
  }
  std::vector<RemoteNodeSpec> nodes;
  // The owner the last delete or list named (nullopt: none), to check what crossed the wire.
  std::optional<std::string> owner_asked() {
    std::lock_guard lock(mutex_);
    return owner_asked_;
  }

  Result<NodeStatus> set_pod_cidr(const std::string& pod_cidr) override {
    {
      std::lock_guard lock(mutex_);
      if (forced_) return {std::nullopt, *forced_};
      pod_cidr_ = pod_cidr;
    }
    return status();
  }

  // Upserts as the switch does, normalised, so a reply shows what the converter filled in.
  Result<ServiceSpec> add_service(const ServiceSpec& spec) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    last_service_ = spec;
    ServiceSpec normalised = spec;
    normalise_service(normalised);
    services_[service_key(spec.ns, spec.name)] = normalised;
    return Result<ServiceSpec>::ok(normalised);
  }
  // One by one, as the switch answers a batch; a forced error fails the whole call.
  Result<std::vector<Result<ServiceSpec>>> add_services(
      const std::vector<ServiceSpec>& specs) override {
    std::vector<Result<ServiceSpec>> results;
    {
      std::lock_guard lock(mutex_);
      if (forced_) return {std::nullopt, *forced_};
    }
    for (const ServiceSpec& spec : specs) results.push_back(add_service(spec));
    return Result<std::vector<Result<ServiceSpec>>>::ok(std::move(results));
  }
  Result<Empty> del_service(const std::string& ns, const std::string& name,
                            const std::optional<std::string>& owner) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    owner_asked_ = owner;
    services_.erase(service_key(ns, name));
    return Result<Empty>::ok({});
  }
  Result<std::vector<ServiceSpec>> list_services(const std::optional<std::string>& owner) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    owner_asked_ = owner;
    std::vector<ServiceSpec> out;
    for (const auto& [key, service] : services_)
      if (owner_selected(owner, service.owner)) out.push_back(service);
    return Result<std::vector<ServiceSpec>>::ok(out);
  }
  std::optional<ServiceSpec> last_service() {
    std::lock_guard lock(mutex_);
    return last_service_;
  }
  size_t service_count() {
    std::lock_guard lock(mutex_);
    return services_.size();
  }

  Result<NodeStatus> status() override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    auto status = Result<NodeStatus>::ok({"0.1.0",
                                          "",
                                          "169.254.1.1",
                                          "10.244.0.1",
                                          1500,
                                          253,
                                          2,
                                          3,
                                          32,
                                          1,
                                          "192.168.1.10/24",
                                          "02:00:00:00:00:01",
                                          8472,
                                          1,
                                          1500,
                                          "net_af_packet_eth1",
                                          "software (no rte_flow)",
                                          0,
                                          {},
                                          2,
                                          250,
                                          "max_pods"});
    status.value->pod_cidr = pod_cidr_;  // SetPodCidr's
    status.value->instance_id = kInstanceId;
    for (const auto& [name, report] : agents_) status.value->agents.push_back({report, 3.5});
    return status;
  }

  static constexpr uint64_t kInstanceId = 0xfedcba9876543210;
  // Kept by name as podvsd does; status() shows each with a report age of 3.5 s.
  Result<uint64_t> report_agent(const AgentReport& report) override {
    std::lock_guard lock(mutex_);
    if (forced_) return {std::nullopt, *forced_};
    agents_[report.name] = report;
    return Result<uint64_t>::ok(kInstanceId);
  }

  void force_error(std::optional<Error> error) {
    std::lock_guard lock(mutex_);
    forced_ = std::move(error);
  }
  void set_stats(SwitchStats stats) {
    std::lock_guard lock(mutex_);
    stats_ = std::move(stats);
  }
  std::optional<PodSpec> last_spec() {
    std::lock_guard lock(mutex_);
    return last_spec_;
  }
  size_t pod_count() {
    std::lock_guard lock(mutex_);
    return pods_.size();
  }
  int clears() {
    std::lock_guard lock(mutex_);
    return clears_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, PodInfo> pods_;
  SwitchStats stats_;
  std::optional<Error> forced_;
  std::optional<PodSpec> last_spec_;
  std::map<std::string, ServiceSpec> services_;
  std::optional<ServiceSpec> last_service_;
  std::optional<std::string> owner_asked_;
  std::map<std::string, AgentReport> agents_;
  std::string pod_cidr_ = "10.244.0.0/24";
  int clears_ = 0;
};

inline void expect_same(const PodSpec& a, const PodSpec& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.netns, b.netns);
  EXPECT_EQ(a.ifname, b.ifname);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.vhost_server, b.vhost_server);
  EXPECT_EQ(a.k8s_namespace, b.k8s_namespace);
  EXPECT_EQ(a.k8s_name, b.k8s_name);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.queues, b.queues);
}

inline void expect_same(const PodInfo& a, const PodInfo& b) {
  expect_same(a.spec, b.spec);
  EXPECT_EQ(a.ip, b.ip);
  EXPECT_EQ(a.mac, b.mac);
  EXPECT_EQ(a.gateway_ip, b.gateway_ip);
  EXPECT_EQ(a.mtu, b.mtu);
  EXPECT_EQ(a.port_name, b.port_name);
  EXPECT_EQ(a.port_id, b.port_id);
  EXPECT_EQ(a.socket_path, b.socket_path);
  EXPECT_EQ(a.status, b.status);
}

inline void expect_same(const std::vector<DropCount>& a, const std::vector<DropCount>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].reason, b[i].reason);
    EXPECT_EQ(a[i].packets, b[i].packets);
  }
}

inline void expect_same(const PortStats& a, const PortStats& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.port_id, b.port_id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.pod_id, b.pod_id);
  EXPECT_EQ(a.link, b.link);
  EXPECT_EQ(a.rx_packets, b.rx_packets);
  EXPECT_EQ(a.rx_bytes, b.rx_bytes);
  EXPECT_EQ(a.tx_packets, b.tx_packets);
  EXPECT_EQ(a.tx_bytes, b.tx_bytes);
  EXPECT_EQ(a.worker, b.worker);
  expect_same(a.drops, b.drops);
  EXPECT_EQ(a.queue_workers, b.queue_workers);
}

inline void expect_same(const WorkerStats& a, const WorkerStats& b) {
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.lcore, b.lcore);
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.rx_packets, b.rx_packets);
  EXPECT_EQ(a.tx_packets, b.tx_packets);
  EXPECT_EQ(a.busy_cycles, b.busy_cycles);
  EXPECT_EQ(a.idle_cycles, b.idle_cycles);
  EXPECT_EQ(a.cycles_per_packet, b.cycles_per_packet);
  EXPECT_EQ(a.rx_queues, b.rx_queues);
  EXPECT_EQ(a.flow_cache_hits, b.flow_cache_hits);
  EXPECT_EQ(a.flow_cache_misses, b.flow_cache_misses);
  EXPECT_EQ(a.rx_bursts, b.rx_bursts);
}

// Distinct non-default values in every field, so a dropped or swapped field shows.
inline ServiceSpec sample_service() {
  ServiceSpec s;
  s.ns = "kube-system";
  s.name = "dns";
  s.cluster_ip = "10.96.0.10";
  s.external_ips = {"203.0.113.10", "198.51.100.7"};
  s.ports = {{"dns", ServiceProto::udp, 53, 5353, 30053},
             {"dns-tcp", ServiceProto::tcp, 54, 5354, 30054}};
  s.endpoints = {{"10.244.0.5", true, true, false, {{"dns", 8053}, {"dns-tcp", 8054}}},
                 {"10.244.1.6", false, true, true, {{"dns", 9053}}},
                 {"10.244.2.7", false, false, true, {}}};
  s.client_ip_affinity = true;
  s.affinity_timeout_s = 600;
  s.external_traffic_policy = TrafficPolicy::local;
  s.internal_traffic_policy = TrafficPolicy::local;
  s.owner = "podvs-agent";
  return s;
}

// Distinct non-default values in every field, so a dropped or swapped field shows.
inline SwitchStats sample_stats() {
  SwitchStats s;
  s.workers = {{0, 2, 3, 100, 90, 5000, 7000, 50.5, 2, 80, 20},
               {1, 4, 5, 200, 190, 6000, 8000, 30.0, 1, 180, 20}};
  PortStats host{"podvs0", 0, PortKind::host, "", "up", 11, 1100, 12, 1200, 0, {}, {0}};
  PortStats tap{"tap_a",
                1,
                PortKind::tap,
                "pod-a",
                "up",
                21,
                2100,
                22,
                2200,
                1,
                {{"spoofed_source", 3}, {"ttl_exceeded", 4}},
                {1, 0}};
  PortStats vhost{"vhost_b", -1, PortKind::vhost_user, "pod-b", "down", 0, 0, 0,
                  0,         1,  {{"no_route", 5}}, {1, -1, 0}};
  s.ports = {host, tap, vhost};
  s.drops = {{"no_route", 5}, {"spoofed_source", 3}, {"ttl_exceeded", 4}};
  s.mbufs_total = 16384;
  s.mbufs_in_use = 1234;
  s.tsc_hz = 2'400'000'000;
  return s;
}

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::path("/tmp") /
           ("podvs-grpc-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A subdirectory that does not exist yet: start() must create it.
    socket_ = (dir_ / "run" / "podvsd.sock").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<v1::Podvs::Stub> stub(const std::string& socket) {
    return v1::Podvs::NewStub(
        grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  }
  std::unique_ptr<v1::Podvs::Stub> stub() { return stub(socket_); }

  static void with_deadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  // The test binary is build/tests/unit_grpc_server; podvsctl is build/podvsctl.
  CliRun podvsctl(std::vector<std::string> args) {
    const fs::path exe =
        fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "podvsctl";
    CliRun run;
    if (!fs::exists(exe)) {
      ADD_FAILURE() << exe << " is missing: build the podvsctl target first";
      return run;
    }
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    args.insert(args.begin(), exe.string());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << exe << ": " << std::strerror(rc);
      return run;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = slurp(out);
    run.err = slurp(err);
    return run;
  }

  fs::path dir_;
  std::string socket_;
  FakeControlPlane control_;
};

}  // namespace podvs::grpc_test
