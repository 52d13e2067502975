// podvs-agent's metrics as Prometheus reads them (the text prometheus-cpp's serializer writes,
// no socket), and the /healthz verdict from its inputs.
#include "control/agent/agent_metrics.h"

#include <gtest/gtest.h>

#include "control/agent/agent_health.h"

namespace podvs::agent {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

// A family appears once it has a sample (the build info from the start).
TEST(AgentMetrics, EveryFamilyHasHelpAndTheBuildInfo) {
  AgentMetrics m;
  EXPECT_TRUE(has_line(m.scrape(), "podvs_agent_build_info{version=\"" PODVS_VERSION "\"} 1"));
  m.watch_ended("nodes", WatchEnd::closed);
  m.listed("nodes", false);
  m.objects("nodes", 0);
  m.synced("nodes", false);
  m.api_error(403);
  m.podvsd_call(14);
  m.node_skipped("no_pod_cidr");
  m.resynced("nodes");
  m.repaired("nodes", "extra");
  const std::string text = m.scrape();
  for (const char* family :
       {"podvs_agent_watch_restarts_total", "podvs_agent_relists_total", "podvs_agent_objects",
        "podvs_agent_informer_synced", "podvs_agent_api_errors_total",
        "podvs_agent_podvsd_call_errors_total", "podvs_agent_nodes_skipped_total",
        "podvs_agent_resyncs_total", "podvs_agent_resync_repairs_total",
        "podvs_agent_network_programming_duration_seconds", "podvs_agent_build_info"})
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
  EXPECT_TRUE(has_line(text, "podvs_agent_build_info{version=\"" PODVS_VERSION "\"} 1")) << text;
}

TEST(AgentMetrics, InformersAreCountedByResource) {
  AgentMetrics m;
  m.synced("nodes", false);
  m.listed("nodes", false);
  m.synced("nodes", true);
  m.objects("nodes", 3);
  m.watch_ended("nodes", WatchEnd::broken);
  m.watch_ended("nodes", WatchEnd::broken);
  m.watch_ended("nodes", WatchEnd::expired);
  m.listed("nodes", true);
  m.watch_ended("services", WatchEnd::closed);
  const std::string text = m.scrape();
  EXPECT_TRUE(has_line(text, R"(podvs_agent_informer_synced{resource="nodes"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(podvs_agent_objects{resource="nodes"} 3)"));
  EXPECT_TRUE(has_line(text, R"(podvs_agent_relists_total{resource="nodes"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(podvs_agent_watch_restarts_total{reason="broken",resource="nodes"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(podvs_agent_watch_restarts_total{reason="expired",resource="nodes"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(podvs_agent_watch_restarts_total{reason="closed",resource="services"} 1)"));
}

TEST(AgentMetrics, ErrorsAreCountedByCode) {
  AgentMetrics m;
  m.api_error(503);
  m.api_error(503);
  m.api_error(0);
  m.podvsd_call(0);   // OK: not an error
  m.podvsd_call(14);  // UNAVAILABLE
  m.podvsd_call(9);   // FAILED_PRECONDITION
  const std::string text = m.scrape();
  EXPECT_TRUE(has_line(text, R"(podvs_agent_api_errors_total{code="503"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(podvs_agent_api_errors_total{code="transport"} 1)"));
  EXPECT_TRUE(has_line(text, R"(podvs_agent_podvsd_call_errors_total{code="UNAVAILABLE"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(podvs_agent_podvsd_call_errors_total{code="FAILED_PRECONDITION"} 1)"));
  EXPECT_EQ(text.find(R"(code="OK")"), std::string::npos);
}

TEST(AgentMetrics, ResyncsRepairsAndSkippedNodes) {
  AgentMetrics m;
  m.resynced("nodes");
  m.resynced("nodes");
  m.repaired("nodes", "missing");
  m.node_skipped("no_annotations");
  const std::string text = m.scrape();
  EXPECT_TRUE(has_line(text, R"(podvs_agent_resyncs_total{controller="nodes"} 2)")) << text;
  EXPECT_TRUE(
      has_line(text, R"(podvs_agent_resync_repairs_total{controller="nodes",what="missing"} 1)"));
  EXPECT_TRUE(has_line(text, R"(podvs_agent_nodes_skipped_total{reason="no_annotations"} 1)"));
}

TEST(AgentMetrics, ProgrammingLatencyFallsInItsBucket) {
  AgentMetrics m;
  m.programmed(std::chrono::milliseconds(3));
  // A latency from a trigger time, as the Service controller measures it.
  const auto trigger = std::chrono::system_clock::now() - std::chrono::seconds(20);
  m.programmed(std::chrono::system_clock::now() - trigger);
  const std::string text = m.scrape();
  const std::string h = "podvs_agent_network_programming_duration_seconds";
  EXPECT_TRUE(has_line(text, h + R"(_bucket{le="0.0025"} 0)")) << text;
  EXPECT_TRUE(has_line(text, h + R"(_bucket{le="0.005"} 1)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{le="10"} 1)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{le="30"} 2)"));
  EXPECT_TRUE(has_line(text, h + R"(_bucket{le="+Inf"} 2)"));
  EXPECT_TRUE(has_line(text, h + "_count 2"));
}

TEST(AgentMetrics, AScrapedFamilyIsReadAtEachScrape) {
  AgentMetrics m;
  std::map<std::string, double> skipped = {{"headless", 2}};
  m.add_scraped({"podvs_agent_services_skipped_total", "Services not programmed, by reason.", true,
                 "reason", [&] { return skipped; }});
  EXPECT_TRUE(has_line(m.scrape(), R"(podvs_agent_services_skipped_total{reason="headless"} 2)"));
  skipped["headless"] = 3;
  const std::string text = m.scrape();
  EXPECT_TRUE(has_line(text, R"(podvs_agent_services_skipped_total{reason="headless"} 3)"));
  EXPECT_NE(text.find("# TYPE podvs_agent_services_skipped_total counter"), std::string::npos);
}

// A healthy agent a while after its start; each test breaks one input.
HealthInputs healthy() {
  HealthInputs in;
  in.started = HealthInputs::Clock::time_point(std::chrono::hours(1));
  in.now = in.started + std::chrono::minutes(10);
  in.informers = {{"nodes", true}, {"services", true}};
  in.resyncer_running = true;
  in.resyncer_turn = in.now - std::chrono::seconds(1);
  in.podvsd_answer = in.now - std::chrono::seconds(1);
  return in;
}

TEST(AgentHealth, HealthyWhenEveryCheckPasses) {
  const Health h = evaluate_health(healthy());
  EXPECT_TRUE(h.ok) << h.text;
  EXPECT_NE(h.text.find("ok: informer services running"), std::string::npos) << h.text;
  EXPECT_NE(h.text.find("ok: podvsd last answered 1 s ago"), std::string::npos) << h.text;
}

TEST(AgentHealth, AnEndedInformerThreadIsUnhealthy) {
  HealthInputs in = healthy();
  in.informers[1].second = false;
  const Health h = evaluate_health(in);
  EXPECT_FALSE(h.ok);
  EXPECT_NE(h.text.find("failed: informer services: its thread has ended"), std::string::npos)
      << h.text;
}

TEST(AgentHealth, AStalledResyncerIsUnhealthy) {
  HealthInputs in = healthy();
  in.resyncer_turn = in.now - kResyncerStallLimit - std::chrono::seconds(1);
  EXPECT_FALSE(evaluate_health(in).ok);
  in = healthy();
  in.resyncer_running = false;
  EXPECT_FALSE(evaluate_health(in).ok);
}

TEST(AgentHealth, PodvsdSilentTooLongIsUnhealthy) {
  HealthInputs in = healthy();
  in.podvsd_answer = in.now - kPodvsdSilenceLimit;
  EXPECT_TRUE(evaluate_health(in).ok);
  in.podvsd_answer = in.now - kPodvsdSilenceLimit - std::chrono::seconds(1);
  const Health h = evaluate_health(in);
  EXPECT_FALSE(h.ok);
  EXPECT_NE(h.text.find("failed: podvsd last answered 61 s ago"), std::string::npos) << h.text;
}

TEST(AgentHealth, APodvsdThatNeverAnsweredHasAGraceAfterTheStart) {
  HealthInputs in = healthy();
  in.podvsd_answer = {};
  in.now = in.started + std::chrono::seconds(5);
  EXPECT_TRUE(evaluate_health(in).ok);
  in.now = in.started + kPodvsdSilenceLimit + std::chrono::seconds(1);
  in.resyncer_turn = in.now;
  const Health h = evaluate_health(in);
  EXPECT_FALSE(h.ok);
  EXPECT_NE(h.text.find("failed: podvsd has not answered"), std::string::npos) << h.text;
}

}  // namespace
}  // namespace podvs::agent
