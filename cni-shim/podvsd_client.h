// podvs-cni's connection to podvsd's gRPC API. Every failure becomes a CniError: podvsd
// unreachable or silent is 11 (try again later); its refusals keep podvsd's sentence.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/api/control_plane.h"
#include "podvs.grpc.pb.h"

namespace podvs::cni {

class PodvsdClient {
 public:
  // connect_timeout bounds the wait for podvsd to accept the connection (zero: fail at once when
  // it does not); call_timeout bounds each call once connected.
  PodvsdClient(std::string socket, std::chrono::milliseconds connect_timeout,
               std::chrono::milliseconds call_timeout);

  PodInfo add_pod(const PodSpec& spec);
  void del_pod(const std::string& id);
  std::optional<PodInfo> get_pod(const std::string& id);  // nullopt: podvsd has no such pod
  std::vector<PodInfo> list_pods();
  NodeStatus status();
  // Whether a connection was made: a call that then failed may have reached podvsd.
  bool connected() const { return connected_; }

 private:
  void connect();
  // Returns false only for NOT_FOUND when not_found_ok; throws CniError for other failures.
  template <typename Request, typename Response>
  bool call(grpc::Status (v1::Podvs::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response, bool not_found_ok = false);

  std::string socket_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds call_timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Podvs::Stub> stub_;
  bool connected_ = false;
};

}  // namespace podvs::cni
