// podvs-agent's connection to podvsd's gRPC API on its unix socket: the few calls the
// controllers make. Failures throw PodvsdError with podvsd's sentence; the controllers log them
// and try again at the next event, relist or resync (resyncer.h).
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/agent/agent_stats.h"
#include "control/api/control_plane.h"

namespace podvs::agent {

struct PodvsdError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The owner podvs-agent writes on everything it programs in podvsd: podvsd lets only the same
// owner replace or delete it, so the agent reconciles its own and never an operator's.
inline constexpr const char* kAgentOwner = "podvs-agent";

// What the controllers need from podvsd, as an interface so they can be tested without one.
class Podvsd {
 public:
  virtual ~Podvsd() = default;
  // Its instance_id changes when podvsd restarts: then reconcile everything (podvsd may have lost
  // what it had not yet saved).
  virtual NodeStatus status() = 0;
  // Tells podvsd how the agent is doing (shown by `podvsctl status`; call it every few seconds,
  // podvsd calls an agent stale after 30 s without a report). The name is set to kAgentOwner.
  // Returns podvsd's instance_id, as status() does, so a restart is noticed on every report.
  virtual uint64_t report_agent(const AgentReport& report) = 0;
  // Replaces podvsd's pod CIDR (refused once pods exist); returns podvsd's status after it.
  virtual NodeStatus set_pod_cidr(const std::string& pod_cidr) = 0;
  // The agent's remote nodes only (owner kAgentOwner).
  virtual std::vector<RemoteNodeSpec> list_nodes() = 0;
  // Adds or replaces the agent's node of that name (its owner is set to kAgentOwner).
  virtual RemoteNodeSpec add_node(const RemoteNodeSpec& node) = 0;
  // Deletes the agent's node of that name; never an operator's.
  virtual void del_node(const std::string& name) = 0;
  // The agent's Services only (owner kAgentOwner), as podvsd holds them (normalised).
  virtual std::vector<ServiceSpec> list_services() = 0;
  // Adds or replaces the agent's Services of those ns/names (their owner is set to kAgentOwner),
  // in calls of up to 250 Services and 1 MiB. Returns, for each Service in order, "" when
  // podvsd took it, else why not: one refused (an operator's Service holds the name or the
  // ClusterIP) blocks no other, and a call that fails (podvsd away) fails each of its Services.
  virtual std::vector<std::string> add_services(const std::vector<ServiceSpec>& services) = 0;
  // Deletes the agent's Service of that ns/name; never an operator's.
  virtual void del_service(const std::string& ns, const std::string& name) = 0;
};

// How a call meets a podvsd that is not there: the controllers wait for it up to the call
// timeout (it restarts, or starts beside the agent); the resyncer's probe fails at once, since
// noticing that podvsd went away is its job.
enum class WhenPodvsdIsDown { wait, fail };

// Every call's outcome is reported to `stats` (podvsd_call).
std::unique_ptr<Podvsd> connect_podvsd(const std::string& socket,
                                       std::chrono::milliseconds call_timeout,
                                       WhenPodvsdIsDown when_down = WhenPodvsdIsDown::wait,
                                       AgentStats& stats = AgentStats::none());

}  // namespace podvs::agent
