// The controllers beside podvsd (podvs-agent) as podvsd last heard from them: each one's last
// ReportAgent and when it arrived, so that `podvsctl status` and the metrics can say whether an
// agent is connected and when it last synced. Memory only: after a restart podvsd knows no agent
// until it reports again, which is how the agent's absence shows.
//
// Thread safety: none. The control thread owns it, as every other piece of podvsd's state.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "control/api/control_plane.h"

namespace podvs {

class AgentRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // Distinct reporters kept: one per controller kind on a node; the bound stops a confused client
  // from growing podvsd's memory with made-up names.
  static constexpr size_t kMaxAgents = 16;
  static constexpr size_t kMaxVersionLength = 64;

  // Keeps the report (replacing the last one of its name), or says why not: invalid_argument for
  // a bad field, resource_exhausted for a new name beyond kMaxAgents.
  Result<Empty> report(const AgentReport& report, Clock::time_point now);
  // Every agent seen, by name, with the age of its last report at `now`.
  std::vector<AgentSeen> seen(Clock::time_point now) const;

 private:
  struct Entry {
    AgentReport report;
    Clock::time_point received;
  };
  std::map<std::string, Entry> agents_;
};

}  // namespace podvs
