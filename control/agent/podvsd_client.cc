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
    v1::GetStatusResponse response;
    call("GetStatus", &v1::Podvs::Stub::GetStatus, v1::GetStatusRequest{}, &response);
    return from_proto(response.status());
  }

  uint64_t report_agent(const AgentReport& report) override {
    AgentReport ours = report;
    ours.name = kAgentOwner;
    v1::ReportAgentRequest request;
    *request.mutable_report() = to_proto(ours);
    v1::ReportAgentResponse response;
    call("ReportAgent", &v1::Podvs::Stub::ReportAgent, request, &response);
    return response.instance_id();
  }

  NodeStatus set_pod_cidr(const std::string& pod_cidr) override {
    v1::SetPodCidrRequest request;
    request.set_pod_cidr(pod_cidr);
    v1::SetPodCidrResponse response;
    call("SetPodCidr " + pod_cidr, &v1::Podvs::Stub::SetPodCidr, request, &response);
    return from_proto(response.status());
  }

  std::vector<RemoteNodeSpec> list_nodes() override {
    v1::ListNodesRequest request;
    request.set_owner(kAgentOwner);
    v1::ListNodesResponse response;
    call("ListNodes", &v1::Podvs::Stub::ListNodes, request, &response);
    std::vector<RemoteNodeSpec> nodes;
    for (const auto& node : response.nodes()) nodes.push_back(from_proto(node));
    return nodes;
  }

  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override {
    RemoteNodeSpec ours = node;
    ours.owner = kAgentOwner;
    v1::AddNodeRequest request;
    *request.mutable_node() = to_proto(ours);
    v1::AddNodeResponse response;
    call("AddNode " + node.name, &v1::Podvs::Stub::AddNode, request, &response);
    return from_proto(response.node());
  }

  void del_node(const std::string& name) override {
    v1::DelNodeRequest request;
    request.set_name(name);
    request.set_owner(kAgentOwner);
    v1::DelNodeResponse response;
    call("DelNode " + name, &v1::Podvs::Stub::DelNode, request, &response);
  }

  std::vector<ServiceSpec> list_services() override {
    v1::ListServicesRequest request;
    request.set_owner(kAgentOwner);
    v1::ListServicesResponse response;
    call("ListServices", &v1::Podvs::Stub::ListServices, request, &response);
    std::vector<ServiceSpec> services;
    for (const auto& service : response.services()) services.push_back(decoded(service));
    return services;
  }

  ServiceSpec add_service(const ServiceSpec& service) override {
    ServiceSpec ours = service;
    ours.owner = kAgentOwner;
    v1::AddServiceRequest request;
    *request.mutable_service() = to_proto(ours);
    v1::AddServiceResponse response;
    call("AddService " + service.ns + "/" + service.name, &v1::Podvs::Stub::AddService, request,
         &response);
    return decoded(response.service());
  }

  void del_service(const std::string& ns, const std::string& name) override {
    v1::DelServiceRequest request;
    request.set_namespace_(ns);
    request.set_name(name);
    request.set_owner(kAgentOwner);
    v1::DelServiceResponse response;
    call("DelService " + ns + "/" + name, &v1::Podvs::Stub::DelService, request, &response);
  }

 private:
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
  void call(const std::string& what,
            grpc::Status (v1::Podvs::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + call_timeout_);
    context.set_wait_for_ready(wait_for_ready_);
    const grpc::Status status = (stub_.get()->*rpc)(&context, request, response);
    stats_.podvsd_call(status.error_code());
    if (!status.ok())
      throw PodvsdError("podvsd at " + socket_ + ": " + what + ": " + status.error_message());
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
