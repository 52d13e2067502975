#include "control/server/grpc_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "control/api/grpc_convert.h"
#include "podvs.grpc.pb.h"

namespace podvs {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kDirMode = 0755;
constexpr mode_t kSocketMode = 0600;  // the API can create and delete pods: root only

std::runtime_error start_error(const std::string& path, const std::string& cause) {
  return std::runtime_error("cannot serve the podvs API on unix:" + path + ": " + cause);
}

void ensure_directory(const std::string& socket_path) {
  const fs::path dir = fs::path(socket_path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  if (!fs::create_directories(dir, ec)) {
    if (ec) throw start_error(socket_path, "cannot create " + dir.string() + ": " + ec.message());
    if (!fs::is_directory(dir))
      throw start_error(socket_path, dir.string() + " is not a directory");
    return;
  }
  if (::chmod(dir.c_str(), kDirMode) != 0)
    throw start_error(socket_path, "cannot chmod " + dir.string() + ": " + std::strerror(errno));
}

// A socket file left by a crashed podvsd refuses connections; one that accepts them belongs to a
// live server, which we must not steal the path from (gRPC itself would unlink it silently).
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw start_error(path, std::string("cannot stat it: ") + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    throw start_error(path, "the path exists and is not a socket; remove it or use another path");

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw start_error(path, std::string("socket(): ") + std::strerror(errno));
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int connect_errno = errno;
  ::close(fd);
  if (rc == 0) throw start_error(path, "another server (a running podvsd?) is listening on it");
  if (connect_errno != ECONNREFUSED)
    throw start_error(
        path, std::string("cannot probe the existing socket: ") + std::strerror(connect_errno));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw start_error(path, std::string("cannot remove the stale socket: ") + std::strerror(errno));
}

// A request's `optional string owner`: unset names every owner.
template <typename Request>
std::optional<std::string> owner_of(const Request& request) {
  if (!request.has_owner()) return std::nullopt;
  return request.owner();
}

template <typename T, typename Fill>
grpc::Status reply(const Result<T>& result, Fill fill) {
  if (!result.is_ok()) return to_status(result.error);
  fill(*result.value);
  return grpc::Status::OK;
}

// gRPC would turn an escaping exception into UNKNOWN "Unexpected error in RPC handling"; say what
// failed instead.
template <typename Call>
grpc::Status run_guarded(const char* rpc, Call call) {
  try {
    return call();
  } catch (const std::exception& e) {
    return {grpc::StatusCode::INTERNAL, std::string(rpc) + " failed in podvsd: " + e.what()};
  }
}

}  // namespace

class GrpcServer::Service final : public v1::Podvs::Service {
 public:
  Service(ControlPlane& control, const CallObserver& observer)
      : control_(control), observer_(observer) {}

  grpc::Status AddPod(grpc::ServerContext*, const v1::AddPodRequest* request,
                      v1::AddPodResponse* response) override {
    return guarded("AddPod", [&] {
      auto spec = from_proto(request->spec());
      if (!spec.is_ok()) return to_status(spec.error);
      return reply(control_.add_pod(*spec.value),
                   [&](const PodInfo& pod) { *response->mutable_pod() = to_proto(pod); });
    });
  }

  grpc::Status DelPod(grpc::ServerContext*, const v1::DelPodRequest* request,
                      v1::DelPodResponse*) override {
    return guarded("DelPod",
                   [&] { return reply(control_.del_pod(request->id()), [](const Empty&) {}); });
  }

  grpc::Status GetPod(grpc::ServerContext*, const v1::GetPodRequest* request,
                      v1::GetPodResponse* response) override {
    return guarded("GetPod", [&] {
      return reply(control_.get_pod(request->id()),
                   [&](const PodInfo& pod) { *response->mutable_pod() = to_proto(pod); });
    });
  }

  grpc::Status ListPods(grpc::ServerContext*, const v1::ListPodsRequest*,
                        v1::ListPodsResponse* response) override {
    return guarded("ListPods", [&] {
      return reply(control_.list_pods(), [&](const std::vector<PodInfo>& pods) {
        for (const auto& pod : pods) *response->add_pods() = to_proto(pod);
      });
    });
  }

  grpc::Status ListPorts(grpc::ServerContext*, const v1::ListPortsRequest*,
                         v1::ListPortsResponse* response) override {
    return guarded("ListPorts", [&] {
      return reply(control_.list_ports(), [&](const std::vector<PortStats>& ports) {
        for (const auto& port : ports) *response->add_ports() = to_proto(port);
      });
    });
  }

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::GetStatsResponse* response) override {
    return guarded("GetStats", [&] {
      return reply(control_.stats(),
                   [&](const SwitchStats& stats) { *response->mutable_stats() = to_proto(stats); });
    });
  }

  grpc::Status ClearStats(grpc::ServerContext*, const v1::ClearStatsRequest*,
                          v1::ClearStatsResponse*) override {
    return guarded("ClearStats",
                   [&] { return reply(control_.clear_stats(), [](const Empty&) {}); });
  }

  grpc::Status ListRecentDrops(grpc::ServerContext*, const v1::ListRecentDropsRequest*,
                               v1::ListRecentDropsResponse* response) override {
    return guarded("ListRecentDrops", [&] {
      return reply(control_.recent_drops(), [&](const std::vector<RecentDrop>& drops) {
        for (const auto& d : drops) *response->add_drops() = to_proto(d);
      });
    });
  }

  grpc::Status AddNode(grpc::ServerContext*, const v1::AddNodeRequest* request,
                       v1::AddNodeResponse* response) override {
    return guarded("AddNode", [&] {
      return reply(control_.add_node(from_proto(request->node())),
                   [&](const RemoteNodeSpec& node) { *response->mutable_node() = to_proto(node); });
    });
  }

  grpc::Status DelNode(grpc::ServerContext*, const v1::DelNodeRequest* request,
                       v1::DelNodeResponse*) override {
    return guarded("DelNode", [&] {
      return reply(control_.del_node(request->name(), owner_of(*request)), [](const Empty&) {});
    });
  }

  grpc::Status ListNodes(grpc::ServerContext*, const v1::ListNodesRequest* request,
                         v1::ListNodesResponse* response) override {
    return guarded("ListNodes", [&] {
      return reply(control_.list_nodes(owner_of(*request)),
                   [&](const std::vector<RemoteNodeSpec>& nodes) {
                     for (const auto& n : nodes) *response->add_nodes() = to_proto(n);
                   });
    });
  }

  grpc::Status AddService(grpc::ServerContext*, const v1::AddServiceRequest* request,
                          v1::AddServiceResponse* response) override {
    return guarded("AddService", [&] {
      auto spec = from_proto(request->service());
      if (!spec.is_ok()) return to_status(spec.error);
      return reply(control_.add_service(*spec.value), [&](const ServiceSpec& service) {
        *response->mutable_service() = to_proto(service);
      });
    });
  }

  grpc::Status AddServices(grpc::ServerContext*, const v1::AddServicesRequest* request,
                           v1::AddServicesResponse* response) override {
    return guarded("AddServices", [&] {
      // A Service that does not decode gets its own error; the others go on.
      std::vector<ServiceSpec> specs;
      std::vector<std::optional<Error>> undecoded;
      for (const v1::Service& service : request->services()) {
        auto spec = from_proto(service);
        undecoded.push_back(spec.is_ok() ? std::nullopt : std::optional(spec.error));
        if (spec.is_ok()) specs.push_back(std::move(*spec.value));
      }
      auto added = control_.add_services(specs);
      if (!added.is_ok()) return to_status(added.error);
      auto next = added.value->begin();
      for (const std::optional<Error>& error : undecoded) {
        const Result<ServiceSpec> result =
            error ? Result<ServiceSpec>{std::nullopt, *error} : std::move(*next++);
        v1::AddServiceResult* out = response->add_results();
        if (result.is_ok()) {
          *out->mutable_service() = to_proto(*result.value);
        } else {
          const grpc::Status status = to_status(result.error);
          out->set_code(status.error_code());
          out->set_error(status.error_message());
        }
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status DelService(grpc::ServerContext*, const v1::DelServiceRequest* request,
                          v1::DelServiceResponse*) override {
    return guarded("DelService", [&] {
      return reply(control_.del_service(request->namespace_(), request->name(), owner_of(*request)),
                   [](const Empty&) {});
    });
  }

  grpc::Status ListServices(grpc::ServerContext*, const v1::ListServicesRequest* request,
                            v1::ListServicesResponse* response) override {
    return guarded("ListServices", [&] {
      return reply(control_.list_services(owner_of(*request)),
                   [&](const std::vector<ServiceSpec>& services) {
                     for (const auto& s : services) *response->add_services() = to_proto(s);
                   });
    });
  }

  grpc::Status SetPodCidr(grpc::ServerContext*, const v1::SetPodCidrRequest* request,
                          v1::SetPodCidrResponse* response) override {
    return guarded("SetPodCidr", [&] {
      return reply(control_.set_pod_cidr(request->pod_cidr()), [&](const NodeStatus& status) {
        *response->mutable_status() = to_proto(status);
      });
    });
  }

  grpc::Status ReportAgent(grpc::ServerContext*, const v1::ReportAgentRequest* request,
                           v1::ReportAgentResponse* response) override {
    return guarded("ReportAgent", [&] {
      return reply(control_.report_agent(from_proto(request->report())),
                   [&](uint64_t instance_id) { response->set_instance_id(instance_id); });
    });
  }

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::GetStatusResponse* response) override {
    return guarded("GetStatus", [&] {
      return reply(control_.status(), [&](const NodeStatus& status) {
        *response->mutable_status() = to_proto(status);
      });
    });
  }

 private:
  template <typename Call>
  grpc::Status guarded(const char* rpc, Call call) {
    const auto start = std::chrono::steady_clock::now();
    grpc::Status status = run_guarded(rpc, call);
    if (observer_)
      observer_(rpc, status.error_code(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return status;
  }

  ControlPlane& control_;
  const CallObserver& observer_;
};

GrpcServer::GrpcServer(ControlPlane& control, std::string socket_path)
    : control_(control), socket_path_(std::move(socket_path)) {}

GrpcServer::~GrpcServer() { shutdown(); }

void GrpcServer::start() {
  if (server_) throw std::logic_error("GrpcServer::start called twice");
  if (socket_path_.empty()) throw std::runtime_error("the podvs API socket path is empty");
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path))
    throw start_error(socket_path_, "the path is " + std::to_string(socket_path_.size()) +
                                        " bytes long; a unix socket path must be shorter than " +
                                        std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes");
  ensure_directory(socket_path_);
  remove_stale_socket(socket_path_);

  service_ = std::make_unique<Service>(control_, observer_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_)
    throw start_error(socket_path_, "gRPC could not bind the socket (its log line above says why)");
  // gRPC cannot set the mode at bind time: until this chmod the socket has the mode the umask
  // leaves, so podvsd should run with umask 077 to leave no window.
  if (::chmod(socket_path_.c_str(), kSocketMode) != 0) {
    const int chmod_errno = errno;
    shutdown();
    throw start_error(socket_path_, std::string("cannot chmod the socket to 0600: ") +
                                        std::strerror(chmod_errno));
  }
}

void GrpcServer::shutdown() {
  if (!server_) return;
  server_->Shutdown();  // no deadline: in-flight calls finish
  server_->Wait();
  server_.reset();
  service_.reset();
  ::unlink(socket_path_.c_str());
}

}  // namespace podvs
