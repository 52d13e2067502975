#include "cni-shim/podvsd_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <sstream>

#include "cni-shim/cni_error.h"
#include "control/api/grpc_convert.h"

namespace podvs::cni {
namespace {

// gRPC's default reconnect back-off starts at 1 s; podvs-cni has a few seconds in all, so it
// retries a restarting podvsd every 100 ms to 500 ms.
constexpr int kReconnectInitialMs = 100;
constexpr int kReconnectMaxMs = 500;

std::string seconds(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000 << " s";
  return out.str();
}

template <typename T>
T decoded(Result<T> result) {
  if (!result.is_ok())
    throw CniError(Code::podvsd_refused, "cannot read podvsd's answer: " + result.error.message);
  return std::move(*result.value);
}

}  // namespace

PodvsdClient::PodvsdClient(std::string socket, std::chrono::milliseconds connect_timeout,
                           std::chrono::milliseconds call_timeout)
    : socket_(std::move(socket)), connect_timeout_(connect_timeout), call_timeout_(call_timeout) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectInitialMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kReconnectInitialMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kReconnectMaxMs);
  channel_ = grpc::CreateCustomChannel("unix:" + socket_, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::Podvs::NewStub(channel_);
}

void PodvsdClient::connect() {
  if (connected_ || connect_timeout_.count() == 0) return;
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + connect_timeout_))
    throw CniError(Code::try_again_later, "cannot reach podvsd at " + socket_ + " within " +
                                              seconds(connect_timeout_) +
                                              " (is podvsd running? check `podvsctl status`)");
  connected_ = true;
}

template <typename Request, typename Response>
bool PodvsdClient::call(grpc::Status (v1::Podvs::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                             Response*),
                        const Request& request, Response* response, bool not_found_ok) {
  connect();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + call_timeout_);
  const grpc::Status status = (stub_.get()->*rpc)(&context, request, response);
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return true;
    case grpc::StatusCode::NOT_FOUND:
      if (not_found_ok) return false;
      break;
    case grpc::StatusCode::UNAVAILABLE:
      throw CniError(Code::try_again_later, "cannot reach podvsd at " + socket_ + ": " +
                                                status.error_message() + " (is podvsd running?)");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      throw CniError(Code::try_again_later, "podvsd at " + socket_ + " did not answer within " +
                                                seconds(call_timeout_) +
                                                " (see timeoutSeconds in the network config)");
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      throw CniError(Code::node_full, "podvsd: " + status.error_message());
    case grpc::StatusCode::ALREADY_EXISTS:
      throw CniError(Code::already_attached, "podvsd: " + status.error_message());
    default:
      break;
  }
  throw CniError(Code::podvsd_refused, "podvsd: " + status.error_message());
}

PodInfo PodvsdClient::add_pod(const PodSpec& spec) {
  v1::AddPodRequest request;
  *request.mutable_spec() = to_proto(spec);
  v1::AddPodResponse response;
  call(&v1::Podvs::Stub::AddPod, request, &response);
  return decoded(from_proto(response.pod()));
}

void PodvsdClient::del_pod(const std::string& id) {
  v1::DelPodRequest request;
  request.set_id(id);
  v1::DelPodResponse response;
  call(&v1::Podvs::Stub::DelPod, request, &response);
}

std::optional<PodInfo> PodvsdClient::get_pod(const std::string& id) {
  v1::GetPodRequest request;
  request.set_id(id);
  v1::GetPodResponse response;
  if (!call(&v1::Podvs::Stub::GetPod, request, &response, true)) return std::nullopt;
  return decoded(from_proto(response.pod()));
}

std::vector<PodInfo> PodvsdClient::list_pods() {
  v1::ListPodsResponse response;
  call(&v1::Podvs::Stub::ListPods, v1::ListPodsRequest{}, &response);
  std::vector<PodInfo> pods;
  for (const auto& pod : response.pods()) pods.push_back(decoded(from_proto(pod)));
  return pods;
}

NodeStatus PodvsdClient::status() {
  v1::GetStatusResponse response;
  call(&v1::Podvs::Stub::GetStatus, v1::GetStatusRequest{}, &response);
  return from_proto(response.status());
}

}  // namespace podvs::cni
