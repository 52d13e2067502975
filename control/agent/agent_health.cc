#include "control/agent/agent_health.h"

namespace podvs::agent {
namespace {

long long seconds_between(HealthInputs::Clock::time_point from,
                          HealthInputs::Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

}  // namespace

Health evaluate_health(const HealthInputs& in) {
  Health h;
  const auto check = [&](bool ok, const std::string& what) {
    h.ok = h.ok && ok;
    h.text += (ok ? "ok: " : "failed: ") + what + "\n";
  };
  for (const auto& [resource, running] : in.informers)
    check(running, "informer " + resource + (running ? " running" : ": its thread has ended"));
  const auto turn_age = seconds_between(in.resyncer_turn, in.now);
  check(in.resyncer_running && in.now - in.resyncer_turn <= kResyncerStallLimit,
        !in.resyncer_running ? "resyncer: its thread has ended"
                             : "resyncer last went round " + std::to_string(turn_age) + " s ago");
  const bool answered = in.podvsd_answer != HealthInputs::Clock::time_point{};
  if (answered)
    check(in.now - in.podvsd_answer <= kPodvsdSilenceLimit,
          "podvsd last answered " + std::to_string(seconds_between(in.podvsd_answer, in.now)) +
              " s ago");
  else
    check(in.now - in.started <= kPodvsdSilenceLimit,
          "podvsd has not answered since the agent started " +
              std::to_string(seconds_between(in.started, in.now)) + " s ago");
  return h;
}

}  // namespace podvs::agent
