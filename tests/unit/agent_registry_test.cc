// AgentRegistry: the last report of each agent with its age, and the precise refusals of what
// podvsd will not keep. Times are given, never measured.
#include "control/daemon/agent_registry.h"

#include <gtest/gtest.h>

#include <string>

namespace podvs {
namespace {

using Clock = AgentRegistry::Clock;
using std::chrono::seconds;

AgentReport report(const std::string& name = "podvs-agent") {
  return {name, "0.1.0", 4242, true, 1796198401, 12, 3};
}

TEST(AgentRegistry, KeepsTheLastReportOfEachNameWithItsAge) {
  AgentRegistry registry;
  const Clock::time_point t0{};
  EXPECT_TRUE(registry.seen(t0).empty());
  ASSERT_TRUE(registry.report(report(), t0).is_ok());
  AgentReport later = report();
  later.synced = false;
  later.services = 13;
  ASSERT_TRUE(registry.report(later, t0 + seconds(10)).is_ok());
  ASSERT_TRUE(registry.report(report("other-agent"), t0 + seconds(20)).is_ok());

  const auto seen = registry.seen(t0 + seconds(25));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].report.name, "other-agent");  // by name
  EXPECT_EQ(seen[0].report_age_s, 5.0);
  EXPECT_EQ(seen[1].report.name, "podvs-agent");
  EXPECT_EQ(seen[1].report_age_s, 15.0);
  EXPECT_FALSE(seen[1].report.synced);
  EXPECT_EQ(seen[1].report.services, 13u);
  EXPECT_EQ(seen[1].report.pid, 4242);
}

TEST(AgentRegistry, RefusesBadFieldsWithASentence) {
  AgentRegistry registry;
  const Clock::time_point t0{};
  const std::pair<AgentReport, const char*> cases[] = {
      {report(""),
       "agent name '' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or '-', "
       "starting and ending with a letter or digit"},
      {report("Podvs_Agent"),
       "agent name 'Podvs_Agent' is not a DNS-1123 label: use 1 to 63 lowercase letters, digits "
       "or '-', starting and ending with a letter or digit"},
      {[] {
         AgentReport r = report();
         r.version = std::string(65, 'v');
         return r;
       }(),
       "agent podvs-agent: version is 65 characters; at most 64 are allowed"},
      {[] {
         AgentReport r = report();
         r.pid = -1;
         return r;
       }(),
       "agent podvs-agent: pid -1 is negative"},
      {[] {
         AgentReport r = report();
         r.last_sync_unix_s = -5;
         return r;
       }(),
       "agent podvs-agent: last_sync_unix_s -5 is negative; 0 means never"},
  };
  for (const auto& [r, message] : cases) {
    const Result<Empty> kept = registry.report(r, t0);
    ASSERT_FALSE(kept.is_ok()) << message;
    EXPECT_EQ(kept.error.code, ErrorCode::invalid_argument);
    EXPECT_EQ(kept.error.message, message);
  }
  EXPECT_TRUE(registry.seen(t0).empty());
}

TEST(AgentRegistry, KeepsAtMostSixteenNamesButAKnownOneMayAlwaysReport) {
  AgentRegistry registry;
  const Clock::time_point t0{};
  for (size_t i = 0; i < AgentRegistry::kMaxAgents; ++i)
    ASSERT_TRUE(registry.report(report("agent-" + std::to_string(i)), t0).is_ok());
  const Result<Empty> full = registry.report(report("one-more"), t0);
  ASSERT_FALSE(full.is_ok());
  EXPECT_EQ(full.error.code, ErrorCode::resource_exhausted);
  EXPECT_EQ(full.error.message,
            "agent one-more: podvsd already keeps reports of 16 agents, its limit");
  EXPECT_TRUE(registry.report(report("agent-3"), t0 + seconds(1)).is_ok());
  EXPECT_EQ(registry.seen(t0 + seconds(1)).size(), 16u);
}

}  // namespace
}  // namespace podvs
