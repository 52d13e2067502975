#include "control/agent/podvsd_client.h"

#include <grpc/grpc.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "control/api/grpc_convert.h"
#include "podvs.grpc.pb.h"

namespace podvs::agent {
namespace {

// gRPC waits up to 120 s between attempts to reach a server that went away; podvsd is on the
// same machine and restarts in seconds, and the agent must mend it as soon as it is back.
constexpr int kMaxReconnectBackoffMs = 1000;

std::shared_ptr<grpc::Channel> podvsd_channel(const std::string& socket) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
}

class GrpcPodvsd final : public Podvsd {
 public:
  GrpcPodvsd(const std::string& socket, std::chrono::milliseconds call_timeout,
             WhenPodvsdIsDown when_down, AgentStats& stats)
      : socket_(socket),
        call_timeout_(call_timeout),
        wait_for_ready_(when_down == WhenPodvsdIsDown::wait),
        stats_(stats),
        stub_(v1::Podvs::NewStub(podvsd_channel(socket))) {}

  NodeStatus status() override {
    return from_proto(call("GetStatus", &Stub::GetStatus, v1::GetStatusRequest{}).status());
  }

  uint64_t report_agent(const AgentReport& report) override {
    AgentReport ours = report;
    ours.name = kAgentOwner;
    v1::ReportAgentRequest request;
    *request.mutable_report() = to_proto(ours);
    return call("ReportAgent", &Stub::ReportAgent, request).instance_id();
  }

  NodeStatus set_pod_cidr(const std::string& pod_cidr) override {
    v1::SetPodCidrRequest request;
    request.set_pod_cidr(pod_cidr);
    return from_proto(call("SetPodCidr " + pod_cidr, &Stub::SetPodCidr, request).status());
  }

  std::vector<RemoteNodeSpec> list_nodes() override {
    const auto response = call("ListNodes", &Stub::ListNodes, ours<v1::ListNodesRequest>());
    std::vector<RemoteNodeSpec> nodes;
    for (const auto& node : response.nodes()) nodes.push_back(from_proto(node));
    return nodes;
  }

  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override {
    v1::AddNodeRequest request;
    *request.mutable_node() = to_proto(marked_ours(node));
    return from_proto(call("AddNode " + node.name, &Stub::AddNode, request).node());
  }

  void del_node(const std::string& name) override {
    auto request = ours<v1::DelNodeRequest>();
    request.set_name(name);
    call("DelNode " + name, &Stub::DelNode, request);
  }

  std::vector<ServiceSpec> list_services() override {
    const auto response =
        call("ListServices", &Stub::ListServices, ours<v1::ListServicesRequest>());
    std::vector<ServiceSpec> services;
    for (const auto& service : response.services()) services.push_back(decoded(service));
    return services;
  }

  std::vector<std::string> add_services(const std::vector<ServiceSpec>& services) override {
    std::vector<std::string> refusals;
    refusals.reserve(services.size());
    v1::AddServicesRequest request;
    size_t bytes = 0;
    const auto send = [&] {
      if (request.services().empty()) return;
      add_batch(request, refusals);
      request.Clear();
      bytes = 0;
    };
    for (const ServiceSpec& service : services) {
      v1::Service proto = to_proto(marked_ours(service));
      const size_t size = proto.ByteSizeLong() + kFieldOverheadBytes;
      if (bytes + size > kMaxBatchBytes || request.services_size() == kMaxBatchServices) send();
      bytes += size;
      *request.add_services() = std::move(proto);
    }
    send();
    return refusals;
  }

  void del_service(const std::string& ns, const std::string& name) override {
    auto request = ours<v1::DelServiceRequest>();
    request.set_namespace_(ns);
    request.set_name(name);
    call("DelService " + ns + "/" + name, &Stub::DelService, request);
  }

 private:
  using Stub = v1::Podvs::Stub;

  // gRPC refuses a message over 4 MiB; the answer repeats each Service (normalised), so requests
  // stay well below. A Service at its limits (100 ports, 4096 endpoints) is about 150 KiB.
  static constexpr size_t kMaxBatchBytes = size_t{1} << 20;
  static constexpr size_t kFieldOverheadBytes = 8;  // a repeated field's tag and length, at most
  // podvsd's control thread takes a batch in one go: its other callers (a CNI ADD, the resyncer's
  // 2 s probe) wait behind it. 250 Services amortise the table publication nearly as well as
  // thousands do; a 1 MiB batch (3,000 Services) held it for over 2 s on this busy 2-core VM, and
  // the probe took podvsd for gone.
  static constexpr int kMaxBatchServices = 250;

  // A list or delete request that names the agent as owner: only its own are listed or deleted.
  template <typename Request>
  static Request ours() {
    Request request;
    request.set_owner(kAgentOwner);
    return request;
  }
  // A node or Service to add as the agent's own.
  template <typename Spec>
  static Spec marked_ours(Spec spec) {
    spec.owner = kAgentOwner;
    return spec;
  }

  // One AddServices call; appends "" or podvsd's refusal for each Service of `request`.
  void add_batch(const v1::AddServicesRequest& request, std::vector<std::string>& refusals) {
    const std::string what = "AddServices (" + std::to_string(request.services_size()) +
                             " Services, the first " + request.services(0).namespace_() + "/" +
                             request.services(0).name() + ")";
    v1::AddServicesResponse response;
    try {
      response = call(what, &Stub::AddServices, request);
      if (response.results_size() != request.services_size())
        throw PodvsdError("podvsd at " + socket_ + ": " + what + ": " +
                          std::to_string(response.results_size()) + " answers");
    } catch (const PodvsdError& e) {
      refusals.insert(refusals.end(), request.services_size(), e.what());
      return;
    }
    for (int i = 0; i < request.services_size(); ++i) {
      const v1::AddServiceResult& result = response.results(i);
      const v1::Service& asked = request.services(i);
      refusals.push_back(result.code() == grpc::StatusCode::OK
                             ? ""
                             : "podvsd at " + socket_ + ": AddService " + asked.namespace_() + "/" +
                                   asked.name() + ": " + result.error());
    }
  }

  // podvsd's own answer cannot be malformed unless the two are of different builds.
  ServiceSpec decoded(const v1::Service& service) const {
    auto result = from_proto(service);
    if (!result.value)
      throw PodvsdError("podvsd at " + socket_ +
                        ": a Service it listed does not decode: " + result.error.message);
    return std::move(*result.value);
  }

  // With WhenPodvsdIsDown::wait, waits for a restarting podvsd up to the call timeout
  // (wait_for_ready) instead of failing at once: the agent and podvsd start side by side.
  template <typename Request, typename Response>
  Response call(const std::string& what,
                grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + call_timeout_);
    context.set_wait_for_ready(wait_for_ready_);
    Response response;
    const grpc::Status status = (stub_.get()->*rpc)(&context, request, &response);
    stats_.podvsd_call(status.error_code());
    if (!status.ok())
      throw PodvsdError("podvsd at " + socket_ + ": " + what + ": " + status.error_message());
    return response;
  }

  std::string socket_;
  std::chrono::milliseconds call_timeout_;
  bool wait_for_ready_;
  AgentStats& stats_;
  std::unique_ptr<v1::Podvs::Stub> stub_;
};

}  // namespace

std::unique_ptr<Podvsd> connect_podvsd(const std::string& socket,
                                       std::chrono::milliseconds call_timeout,
                                       WhenPodvsdIsDown when_down, AgentStats& stats) {
  return std::make_unique<GrpcPodvsd>(socket, call_timeout, when_down, stats);
}

}  // namespace podvs::agent
