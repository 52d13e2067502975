// The resyncer notices podvsd coming back (silent, then answering) and resyncs every controller
// then; one controller that throws does not keep the others from their resync.
#include <gtest/gtest.h>

#include <thread>

#include "control/agent/resyncer.h"

namespace podvs::agent {
namespace {

// Only GetStatus matters to the resyncer's probe.
struct ProbedPodvsd final : Podvsd {
  bool up = true;
  NodeStatus status() override {
    if (!up) throw PodvsdError("podvsd: GetStatus: connection refused");
    return {};
  }
  NodeStatus set_pod_cidr(const std::string&) override { return {}; }
  std::vector<RemoteNodeSpec> list_nodes() override { return {}; }
  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override { return node; }
  void del_node(const std::string&) override {}
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
