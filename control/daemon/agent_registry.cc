#include "control/daemon/agent_registry.h"

#include "control/api/service_spec.h"

namespace podvs {

namespace {

std::string field_error(const AgentReport& report) {
  // The name is an owner name, shown in status and metric labels: the same rule as a Service's.
  if (!is_dns_label(report.name))
    return "agent name '" + report.name +
           "' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or '-', starting and "
           "ending with a letter or digit";
  if (report.version.size() > AgentRegistry::kMaxVersionLength)
    return "agent " + report.name + ": version is " + std::to_string(report.version.size()) +
           " characters; at most " + std::to_string(AgentRegistry::kMaxVersionLength) +
           " are allowed";
  if (report.pid < 0)
    return "agent " + report.name + ": pid " + std::to_string(report.pid) + " is negative";
  if (report.last_sync_unix_s < 0)
    return "agent " + report.name + ": last_sync_unix_s " +
           std::to_string(report.last_sync_unix_s) + " is negative; 0 means never";
  return {};
}

}  // namespace

Result<Empty> AgentRegistry::report(const AgentReport& report, Clock::time_point now) {
  if (std::string error = field_error(report); !error.empty())
    return Result<Empty>::fail(ErrorCode::invalid_argument, error);
  if (!agents_.contains(report.name) && agents_.size() >= kMaxAgents)
    return Result<Empty>::fail(ErrorCode::resource_exhausted,
                               "agent " + report.name + ": podvsd already keeps reports of " +
                                   std::to_string(agents_.size()) + " agents, its limit");
  agents_[report.name] = Entry{report, now};
  return Result<Empty>::ok({});
}

std::vector<AgentSeen> AgentRegistry::seen(Clock::time_point now) const {
  std::vector<AgentSeen> out;
  for (const auto& [name, entry] : agents_)
    out.push_back({entry.report, std::chrono::duration<double>(now - entry.received).count()});
  return out;
}

}  // namespace podvs
