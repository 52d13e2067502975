// it_agent_status's stand-in for podvs-agent's status reports: one ReportAgent through the agent's
// own client (control/agent/podvsd_client), then podvsd's status, so the test checks the helper the
// agent uses against a real podvsd.
//
//   report_agent SOCKET SYNCED LAST_SYNC_UNIX_S SERVICES NODES
//
// Prints "reported INSTANCE_ID" and "status INSTANCE_ID" (hex, as podvsctl status shows it); exits
// 1 with podvsd's sentence when a call fails.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "control/agent/podvsd_client.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s SOCKET SYNCED LAST_SYNC_UNIX_S SERVICES NODES\n", argv[0]);
    return 2;
  }
  try {
    const auto podvsd = podvs::agent::connect_podvsd(argv[1], std::chrono::seconds(5));
    podvs::AgentReport report;
    report.version = "it-report";
    report.pid = getpid();
    report.synced = std::string(argv[2]) == "true";
    report.last_sync_unix_s = std::stoll(argv[3]);
    report.services = static_cast<uint32_t>(std::stoul(argv[4]));
    report.nodes = static_cast<uint32_t>(std::stoul(argv[5]));
    std::printf("reported %016llx\n",
                static_cast<unsigned long long>(podvsd->report_agent(report)));
    std::printf("status %016llx\n", static_cast<unsigned long long>(podvsd->status().instance_id));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "report_agent: %s\n", e.what());
    return 1;
  }
  return 0;
}
