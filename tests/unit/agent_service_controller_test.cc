// The Service controller against a fake podvsd: nothing before both informers synced, then one
// reconcile; bursts coalesced into one call per Service; unchanged Services never re-added (an
// agent restart starts from podvsd's own list); refusals logged, counted and retried without
// blocking others; slices before their Service; skips by reason; latency samples; resync.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "control/agent/service_controller.h"
#include "control/api/service_spec.h"

namespace podvs::agent {
namespace {

using nlohmann::json;

struct FakePodvsd final : Podvsd {
  std::map<std::string, ServiceSpec> services;  // by ns/name, every owner's
  std::vector<std::string> calls;               // Service adds and deletes
  std::set<std::string> refused;                // ns/name podvsd refuses to add
  int batches = 0;                              // add_services calls
  NodeStatus status() override { return {}; }
  uint64_t report_agent(const AgentReport&) override { return 1; }
  NodeStatus set_pod_cidr(const std::string&) override { return {}; }
  std::vector<RemoteNodeSpec> list_nodes() override { return {}; }
  RemoteNodeSpec add_node(const RemoteNodeSpec& node) override { return node; }
  void del_node(const std::string&) override {}
  // As podvsd answers the agent: only the agent's own, normalised.
  std::vector<ServiceSpec> list_services() override {
    std::vector<ServiceSpec> out;
    for (const auto& [key, s] : services)
      if (s.owner == kAgentOwner) out.push_back(s);
    return out;
  }
  std::vector<std::string> add_services(const std::vector<ServiceSpec>& batch) override {
    std::vector<std::string> refusals;
    for (const ServiceSpec& service : batch) refusals.push_back(add(service));
    ++batches;
    return refusals;
  }
  std::string add(const ServiceSpec& service) {
    const std::string key = service_key(service.ns, service.name);
    if (refused.count(key)) return "AddService " + key + ": ClusterIP clash";
    if (auto it = services.find(key); it != services.end() && it->second.owner != kAgentOwner)
      return "AddService " + key + ": owned by an operator";
    calls.push_back("add " + key + " " + std::to_string(service.endpoints.size()));
    ServiceSpec ours = service;
    ours.owner = kAgentOwner;
    normalise_service(ours);
    services[key] = ours;
    return "";
  }
  void del_service(const std::string& ns, const std::string& name) override {
    calls.push_back("del " + service_key(ns, name));
    services.erase(service_key(ns, name));
  }
};

json service(const std::string& name, const std::string& ip, int port = 80) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"resourceVersion", "1"}}},
          {"spec",
           {{"clusterIP", ip},
            {"ports",
             {{{"name", "http"}, {"protocol", "TCP"}, {"port", port}, {"targetPort", 8080}}}}}}};
}

json slice(const std::string& name, const std::string& service, std::vector<std::string> ips) {
  json endpoints = json::array();
  for (const auto& ip : ips)
    endpoints.push_back({{"addresses", {ip}}, {"conditions", {{"ready", true}}}});
  return {{"metadata",
           {{"name", name},
            {"namespace", "default"},
            {"resourceVersion", "1"},
            {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"ports", {{{"name", "http"}, {"protocol", "TCP"}, {"port", 8080}}}},
          {"endpoints", endpoints}};
}

struct Fixture {
  FakePodvsd podvsd;
  std::vector<double> latencies;
  ServiceController c{podvsd, ServiceControllerOptions{std::chrono::milliseconds(50),
                                                       [this](std::chrono::duration<double> d) {
                                                         latencies.push_back(d.count());
                                                       }}};
  InformerHandler& svc() { return c.services_handler(); }
  InformerHandler& eps() { return c.slices_handler(); }
  void sync() {
    svc().on_synced();
    eps().on_synced();
  }
};

TEST(ServiceController, NothingIsProgrammedBeforeBothInformersSynced) {
  Fixture f;
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  f.eps().on_add("default/web-1", slice("web-1", "web", {"10.244.0.5"}));
  f.svc().on_synced();
  EXPECT_FALSE(f.c.resync());
  f.c.flush();
  EXPECT_TRUE(f.podvsd.calls.empty());
  EXPECT_FALSE(f.c.synced());
  f.eps().on_synced();
  f.c.flush();
  EXPECT_TRUE(f.c.synced());
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 1"}));
  EXPECT_EQ(f.podvsd.services.at("default/web").owner, kAgentOwner);
}

TEST(ServiceController, ABurstOfChangesIsOneCallAndUnchangedServicesAreNeverReAdded) {
  Fixture f;
  f.sync();
  f.c.flush();
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  for (int i = 1; i <= 20; ++i) {
    std::vector<std::string> ips;
    for (int j = 1; j <= i; ++j) ips.push_back("10.244.0." + std::to_string(j));
    f.eps().on_update("default/web-1", json(), slice("web-1", "web", ips));
  }
  f.c.flush();
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 20"}));
  // The same objects again (a relist, a resourceVersion bump, a label change): no call.
  json relabelled = service("web", "10.96.0.10");
  relabelled["metadata"]["resourceVersion"] = "9";
  relabelled["metadata"]["labels"] = {{"team", "a"}};
  f.svc().on_update("default/web", json(), relabelled);
  f.c.flush();
  EXPECT_TRUE(f.c.resync());
  EXPECT_EQ(f.podvsd.calls.size(), 1u);
  EXPECT_EQ(f.c.stats().adds, 1u);
  EXPECT_EQ(f.latencies.size(), 1u);
}

TEST(ServiceController, ARestartedAgentChangesOnlyWhatDiffers) {
  // What an earlier run of the agent left in podvsd, and an operator's Service.
  Fixture first;
  first.sync();
  first.svc().on_add("default/same", service("same", "10.96.0.1"));
  first.eps().on_add("default/same-1", slice("same-1", "same", {"10.244.0.5", "10.244.0.6"}));
  first.svc().on_add("default/moved", service("moved", "10.96.0.2"));
  first.svc().on_add("default/gone", service("gone", "10.96.0.3"));
  first.c.flush();
  FakePodvsd& podvsd = first.podvsd;
  ServiceSpec manual = *service_from(service("manual", "10.96.0.9"), {}).spec;
  podvsd.services["default/manual"] = manual;  // owner ""
  podvsd.calls.clear();

  ServiceController c(podvsd);
  c.services_handler().on_add("default/same", service("same", "10.96.0.1"));
  c.slices_handler().on_add("default/same-1",
                            slice("same-1", "same", {"10.244.0.6", "10.244.0.5"}));
  c.services_handler().on_add("default/moved", service("moved", "10.96.0.2", 81));
  c.services_handler().on_synced();
  c.slices_handler().on_synced();
  EXPECT_TRUE(c.resync());
  EXPECT_EQ(podvsd.calls, (std::vector<std::string>{"del default/gone", "add default/moved 0"}));
  EXPECT_EQ(podvsd.services.count("default/manual"), 1u);
  EXPECT_EQ(podvsd.services.at("default/manual").owner, "");
  EXPECT_EQ(c.stats().programmed, 2u);
}

TEST(ServiceController, AddsAreOneBatchAfterTheDeletesThatFreeTheirAddresses) {
  Fixture f;
  f.sync();
  f.svc().on_add("default/z-old", service("z-old", "10.96.0.7"));
  f.c.flush();
  f.podvsd.calls.clear();
  f.podvsd.batches = 0;
  f.latencies.clear();
  // z-old's ClusterIP goes to a-new in the same flush: the delete must reach podvsd first.
  f.svc().on_delete("default/z-old", json());
  f.svc().on_add("default/a-new", service("a-new", "10.96.0.7"));
  f.svc().on_add("default/b", service("b", "10.96.0.8"));
  f.svc().on_add("default/c", service("c", "10.96.0.9"));
  f.c.flush();
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"del default/z-old", "add default/a-new 0",
                                                      "add default/b 0", "add default/c 0"}));
  EXPECT_EQ(f.podvsd.batches, 1);
  EXPECT_EQ(f.latencies.size(), 4u);
}

TEST(ServiceController, ResyncRepairsWhatPodvsdLost) {
  Fixture f;
  f.sync();
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  f.c.flush();
  f.podvsd.services.clear();  // podvsd restarted without its state
  f.podvsd.calls.clear();
  EXPECT_TRUE(f.c.resync());
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0"}));
  EXPECT_EQ(f.c.stats().resyncs, 2u);
}

TEST(ServiceController, SlicesBeforeTheirServiceAreKept) {
  Fixture f;
  f.sync();
  f.eps().on_add("default/late-1", slice("late-1", "late", {"10.244.0.5"}));
  f.eps().on_add("default/late-2", slice("late-2", "late", {"10.244.0.6"}));
  f.c.flush();
  EXPECT_TRUE(f.podvsd.calls.empty());
  EXPECT_EQ(f.c.stats().orphan_slices, 2u);
  f.svc().on_add("default/late", service("late", "10.96.0.10"));
  f.c.flush();
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/late 2"}));
  EXPECT_EQ(f.c.stats().orphan_slices, 0u);
  // A slice deleted, and one relabelled to another Service: both Services follow.
  f.svc().on_add("default/other", service("other", "10.96.0.11"));
  f.eps().on_delete("default/late-1", json());
  f.eps().on_update("default/late-2", json(), slice("late-2", "other", {"10.244.0.6"}));
  f.c.flush();
  EXPECT_EQ(f.podvsd.services.at("default/late").endpoints.size(), 0u);
  EXPECT_EQ(f.podvsd.services.at("default/other").endpoints.size(), 1u);
}

TEST(ServiceController, SkippedServicesAreCountedByReasonAndRemovedWhenProgrammed) {
  Fixture f;
  f.sync();
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  f.c.flush();
  json headless = service("web", "None");
  f.svc().on_update("default/web", json(), headless);
  json external = {{"metadata", {{"name", "ext"}, {"namespace", "default"}}},
                   {"spec", {{"type", "ExternalName"}, {"externalName", "db.example.com"}}}};
  f.svc().on_add("default/ext", external);
  json ports = service("many", "10.96.0.12");
  for (int i = 1; i < 1000; ++i)
    ports["spec"]["ports"].push_back({{"name", "p" + std::to_string(i)}, {"port", 1000 + i}});
  f.svc().on_add("default/many", ports);
  f.c.flush();
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0", "del default/web"}));
  const auto stats = f.c.stats();
  EXPECT_EQ(stats.skipped, (std::map<std::string, size_t>{
                               {"external_name", 1}, {"headless", 1}, {"too_many_ports", 1}}));
  EXPECT_EQ(stats.programmed, 0u);
  f.svc().on_delete("default/ext", external);
  f.c.flush();
  EXPECT_EQ(f.c.stats().skipped.count("external_name"), 0u);
}

TEST(ServiceController, MalformedObjectsNeverStopIt) {
  Fixture f;
  f.sync();
  json bad = service("bad", "10.96.0.10");
  bad["spec"]["ports"] = "http";
  f.svc().on_add("default/bad", bad);
  f.svc().on_add("default/worse", json::array({1, 2}));
  json bad_slice = slice("web-1", "web", {"10.244.0.5"});
  bad_slice["endpoints"] = 7;
  f.eps().on_add("default/web-1", bad_slice);
  f.eps().on_add("default/odd", json("a string"));
  f.svc().on_add("default/web", service("web", "10.96.0.11"));
  EXPECT_NO_THROW(f.c.flush());
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0"}));
  EXPECT_EQ(f.c.stats().skipped, (std::map<std::string, size_t>{{"invalid", 2}}));
}

TEST(ServiceController, ARefusedServiceIsRetriedAndBlocksNoOther) {
  Fixture f;
  f.sync();
  f.podvsd.refused.insert("default/clash");
  f.svc().on_add("default/clash", service("clash", "10.96.0.10"));
  f.svc().on_add("default/web", service("web", "10.96.0.11"));
  f.c.flush();
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0"}));
  EXPECT_EQ(f.c.stats().errors, 1u);
  f.eps().on_add("default/clash-1", slice("clash-1", "clash", {"10.244.0.5"}));
  f.c.flush();  // its next change: tried again, refused again
  EXPECT_EQ(f.c.stats().errors, 2u);
  f.podvsd.refused.clear();  // the operator removed the clash; no API change follows
  EXPECT_TRUE(f.c.resync());
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0", "add default/clash 1"}));
}

TEST(ServiceController, LatencyStartsAtTheSlicesTriggerTime) {
  Fixture f;
  f.sync();
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  f.c.flush();
  json s = slice("web-1", "web", {"10.244.0.5"});
  const auto trigger = std::chrono::system_clock::now() - std::chrono::seconds(5);
  const time_t t = std::chrono::system_clock::to_time_t(trigger);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  s["metadata"]["annotations"] = {{kLastChangeTriggerTime, text}};
  f.eps().on_add("default/web-1", s);
  f.c.flush();
  ASSERT_EQ(f.latencies.size(), 2u);
  EXPECT_GE(f.latencies[1], 4.0);
}

TEST(ServiceController, TheFlusherThreadProgramsOnItsOwn) {
  Fixture f;
  f.svc().on_add("default/web", service("web", "10.96.0.10"));
  f.c.start();
  f.sync();
  // Waits for the state, not for a time: the flusher is asynchronous by design. The fake is
  // read only once the flusher has stopped.
  const auto wait_for_adds = [&](uint64_t n) {
    for (int i = 0; i < 3000 && f.c.stats().adds < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  wait_for_adds(1);
  f.eps().on_add("default/web-1", slice("web-1", "web", {"10.244.0.5"}));
  wait_for_adds(2);
  f.c.stop();
  EXPECT_TRUE(f.c.synced());
  EXPECT_EQ(f.podvsd.calls, (std::vector<std::string>{"add default/web 0", "add default/web 1"}));
}

}  // namespace
}  // namespace podvs::agent
