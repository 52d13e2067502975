#include "control/agent/podvsd_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "control/api/grpc_convert.h"
#include "podvs.grpc.pb.h"

namespace podvs::agent {
namespace {

class GrpcPodvsd final : public Podvsd {
 public:
  GrpcPodvsd(const std::string& socket, std::chrono::milliseconds call_timeout)
      : socket_(socket),
        call_timeout_(call_timeout),
        stub_(v1::Podvs::NewStub(
            grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()))) {}

  NodeStatus status() override {
    v1::GetStatusResponse response;
    call("GetStatus", &v1::Podvs::Stub::GetStatus, v1::GetStatusRequest{}, &response);
    return from_proto(response.status());
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

  // Waits for a restarting podvsd up to the call timeout (wait_for_ready) instead of failing at
  // once: the agent and podvsd start side by side.
  template <typename Request, typename Response>
  void call(const std::string& what,
            grpc::Status (v1::Podvs::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + call_timeout_);
    context.set_wait_for_ready(true);
    const grpc::Status status = (stub_.get()->*rpc)(&context, request, response);
    if (!status.ok())
      throw PodvsdError("podvsd at " + socket_ + ": " + what + ": " + status.error_message());
  }

  std::string socket_;
  std::chrono::milliseconds call_timeout_;
  std::unique_ptr<v1::Podvs::Stub> stub_;
};

}  // namespace

std::unique_ptr<Podvsd> connect_podvsd(const std::string& socket,
                                       std::chrono::milliseconds call_timeout) {
  return std::make_unique<GrpcPodvsd>(socket, call_timeout);
}

}  // namespace podvs::agent
