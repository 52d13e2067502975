// podvs-agent's /healthz answer, for a Kubernetes liveness probe: the agent is healthy when
// - every informer's thread is still in its loop (a thread that ended follows nothing more);
// - the resyncer went round its loop within kResyncerStallLimit (it waits on the controllers'
//   locks, so a controller stuck in a call stalls it too);
// - podvsd answered the resyncer's probe within kPodvsdSilenceLimit (or, before its first
//   answer, the agent started less than that ago). podvsd restarts in seconds; a podvsd silent
//   for a minute is one the agent cannot reach, and a restart of the pod is the remedy.
// The API server being unreachable does not make the agent unhealthy: restarting the agent
// would not bring it back, and the data path stays as it is meanwhile.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace podvs::agent {

inline constexpr std::chrono::seconds kResyncerStallLimit{120};
inline constexpr std::chrono::seconds kPodvsdSilenceLimit{60};

struct HealthInputs {
  using Clock = std::chrono::steady_clock;
  Clock::time_point now, started;
  std::vector<std::pair<std::string, bool>> informers;  // resource, thread running
  bool resyncer_running = false;
  Clock::time_point resyncer_turn;
  Clock::time_point podvsd_answer;  // epoch (zero): never answered
};

struct Health {
  bool ok = true;
  std::string text;  // one line per check: "ok: ..." or "failed: ..."
};

Health evaluate_health(const HealthInputs& in);

}  // namespace podvs::agent
