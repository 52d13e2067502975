// The resyncer notices podvsd coming back (silent, then answering) and resyncs every controller
// then; one controller that throws does not keep the others from their resync.
#include <gtest/gtest.h>

#include <thread>

#include "control/agent/resyncer.h"

namespace podvs::agent {
namespace {

// Only GetStatus (and ReportAgent) matter to the resyncer's probe.
struct ProbedPodvsd final : Podvsd {
  bool up = true;
  uint64_t instance = 7;
  std::vector<AgentReport> reports;
  NodeStatus status() override {
    if (!up) throw PodvsdError("podvsd: GetStatus: connection refused");
    NodeStatus s;
    s.instance_id = instance;
    return s;
  }
  uint64_t report_agent(const AgentReport& report) override {
    if (!up) throw PodvsdError("podvsd: ReportAgent: connection refused");
    reports.push_back(report);
    return instance;
  }
  NodeStatus set_pod_cidr(const std::string&) override { return {}; }
  std::vector<RemoteNodeSpec> list_nodes() override { return {}; }
  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override { return node; }
  void del_node(const std::string&) override {}
  std::vector<ServiceSpec> list_services() override { return {}; }
  std::vector<std::string> add_services(const std::vector<ServiceSpec>& services) override {
    return std::vector<std::string>(services.size());
  }
  void del_service(const std::string&, const std::string&) override {}
};

TEST(Resyncer, ResyncsEveryControllerWhenPodvsdAnswersAgain) {
  ProbedPodvsd podvsd;
  Resyncer r(podvsd, {});
  int nodes = 0, services = 0;
  r.add("nodes", [&] { ++nodes; });
  r.add("services", [&] { ++services; });
  r.probe();  // the first answer: nothing to mend yet
  r.probe();
  EXPECT_EQ(nodes, 0);
  EXPECT_EQ(r.last_answer() != Resyncer::Clock::time_point{}, true);
  podvsd.up = false;
  r.probe();
  r.probe();
  EXPECT_EQ(nodes, 0);
  podvsd.up = true;
  r.probe();
  EXPECT_EQ(nodes, 1);
  EXPECT_EQ(services, 1);
  r.probe();  // answering still: no more
  EXPECT_EQ(nodes, 1);
}

TEST(Resyncer, ANewInstanceOfPodvsdBetweenTwoProbesIsARestart) {
  ProbedPodvsd podvsd;
  Resyncer r(podvsd, {});
  int nodes = 0;
  r.add("nodes", [&] { ++nodes; });
  r.probe();
  r.probe();
  EXPECT_EQ(nodes, 0);
  podvsd.instance = 8;  // restarted faster than a probe could see it silent
  r.probe();
  EXPECT_EQ(nodes, 1);
  r.probe();
  EXPECT_EQ(nodes, 1);
}

TEST(Resyncer, ReportsToPodvsdEachIntervalAndAtOnceWhenPodvsdIsNew) {
  ProbedPodvsd podvsd;
  ResyncOptions options;
  options.report_interval = std::chrono::hours(1);
  Resyncer r(podvsd, options);
  r.set_reporter([] {
    AgentReport report;
    report.synced = true;
    report.services = 3;
    return report;
  });
  r.probe();  // the first report goes at once
  r.probe();  // the next only after the interval
  ASSERT_EQ(podvsd.reports.size(), 1u);
  EXPECT_EQ(podvsd.reports[0].services, 3u);
  podvsd.instance = 9;  // a new podvsd knows no agent: reported at once
  r.probe();
  EXPECT_EQ(podvsd.reports.size(), 2u);
  podvsd.up = false;
  r.probe();
  podvsd.up = true;
  r.probe();  // back: reported at once
  EXPECT_EQ(podvsd.reports.size(), 3u);
}

TEST(Resyncer, AControllerThatThrowsDoesNotStopTheOthers) {
  ProbedPodvsd podvsd;
  Resyncer r(podvsd, {});
  int services = 0;
  r.add("nodes", [] { throw PodvsdError("podvsd: ListNodes: deadline exceeded"); });
  r.add("services", [&] { ++services; });
  r.resync_all("test");
  EXPECT_EQ(services, 1);
}

TEST(Resyncer, ItsThreadResyncsEveryPeriodAndStops) {
  ProbedPodvsd podvsd;
  ResyncOptions options;
  options.period = std::chrono::milliseconds(1);
  options.probe_interval = std::chrono::milliseconds(1);
  Resyncer r(podvsd, options);
  std::atomic<int> resyncs{0};
  r.add("nodes", [&] { ++resyncs; });
  r.start();
  EXPECT_TRUE(r.running());
  // However slow the machine, two periods pass; the bound only keeps a broken build from hanging.
  for (int i = 0; i < 10000 && resyncs < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  r.stop();
  EXPECT_GE(resyncs.load(), 2);
  EXPECT_FALSE(r.running());
}

}  // namespace
}  // namespace podvs::agent
