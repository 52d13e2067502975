// The podvs.v1.Podvs gRPC service on a unix socket: translates requests into ControlPlane calls and
// results back (control/api/grpc_convert.h), mapping ErrorCode to the gRPC status of the same name
// with the message unchanged. It validates only what the proto layer alone can (unknown enum
// values, port numbers wider than 16 bits); everything else is the ControlPlane's to judge.
//
// Thread safety: gRPC runs handlers on its own thread pool, several at once; ControlPlane promises
// to be safe for that. start() and shutdown() are called from one thread (the daemon's main).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "control/api/control_plane.h"

namespace grpc {
class Server;
}

namespace podvs {

class GrpcServer {
 public:
  GrpcServer(ControlPlane& control, std::string socket_path);
  ~GrpcServer();  // shutdown() if started
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Creates the parent directory (0755) if missing, replaces a stale socket file, listens on
  // unix:<path> and makes the socket 0600 (root only). Throws std::runtime_error naming the path
  // and the cause: path too long for a unix socket, path taken by a non-socket or by a live
  // server, directory or bind failure.
  // Called after every RPC with its name, outcome and duration (for the API's metrics). Set it
  // before start(); it runs on gRPC's threads and must be thread-safe.
  using CallObserver = std::function<void(const char* rpc, int status_code, double seconds)>;
  void set_observer(CallObserver observer) { observer_ = std::move(observer); }

  void start();
  // Stops accepting calls, waits for in-flight ones, removes the socket file. Idempotent.
  void shutdown();

  const std::string& socket_path() const { return socket_path_; }

 private:
  class Service;

  ControlPlane& control_;
  std::string socket_path_;
  CallObserver observer_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace podvs
