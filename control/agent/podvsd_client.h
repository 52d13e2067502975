// podvs-agent's connection to podvsd's gRPC API on its unix socket: the few calls the
// controllers make. Failures throw PodvsdError with podvsd's sentence; the controllers log them
// and try again at the next event or relist.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/api/control_plane.h"

namespace podvs::agent {

struct PodvsdError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the controllers need from podvsd, as an interface so they can be tested without one.
class Podvsd {
 public:
  virtual ~Podvsd() = default;
  virtual NodeStatus status() = 0;
  virtual std::vector<RemoteNodeSpec> list_nodes() = 0;
  // Adding a node whose name exists replaces it.
  virtual RemoteNodeSpec add_node(const RemoteNodeSpec& node) = 0;
  virtual void del_node(const std::string& name) = 0;
};

std::unique_ptr<Podvsd> connect_podvsd(const std::string& socket,
                                       std::chrono::milliseconds call_timeout);

}  // namespace podvs::agent
