// The informer's event handling, fed lines as a WATCH stream carries them: adds, updates,
// deletes, bookmarks, ERROR 410, the full replace of a relist, and tolerance of the unexpected.
#include <gtest/gtest.h>

#include "control/agent/informer.h"
#include "control/agent/informer_cache.h"

namespace podvs::agent {
namespace {

struct Recorder final : InformerHandler {
  std::vector<std::string> calls;
  bool throw_on_add = false;
  void on_add(const std::string& key, const nlohmann::json& o) override {
    calls.push_back("add " + key + " " + o["metadata"].value("resourceVersion", ""));
    if (throw_on_add) throw std::runtime_error("podvsd is away");
  }
  void on_update(const std::string& key, const nlohmann::json& old_o,
                 const nlohmann::json& o) override {
    calls.push_back("update " + key + " " + old_o["metadata"].value("resourceVersion", "") + "->" +
                    o["metadata"].value("resourceVersion", ""));
  }
  void on_delete(const std::string& key, const nlohmann::json&) override {
    calls.push_back("delete " + key);
  }
  void on_synced() override { calls.push_back("synced"); }
};

nlohmann::json object(const std::string& name, const std::string& rv, const std::string& ns = "") {
  nlohmann::json o = {{"kind", "Node"},
                      {"metadata",
                       {{"name", name},
                        {"uid", "uid-" + name},
                        {"resourceVersion", rv},
                        {"managedFields", nlohmann::json::array({{{"manager", "kubelet"}}})}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  return o;
}

std::string event(const std::string& type, const nlohmann::json& o) {
  return nlohmann::json{{"type", type}, {"object", o}}.dump();
}

TEST(InformerCache, ListThenEventsReachTheHandlerInOrder) {
  Recorder r;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({object("a", "1"), object("b", "2")}, "5");
  EXPECT_EQ(cache.resource_version(), "5");
  EXPECT_EQ(cache.apply_line(event("ADDED", object("c", "6"))), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line(event("MODIFIED", object("a", "7"))), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line(event("DELETED", object("b", "8"))), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line(
                event("BOOKMARK", {{"kind", "Node"}, {"metadata", {{"resourceVersion", "12"}}}})),
            LineOutcome::applied);
  EXPECT_EQ(cache.resource_version(), "12");
  EXPECT_EQ(r.calls, (std::vector<std::string>{"add a 1", "add b 2", "synced", "add c 6",
                                               "update a 1->7", "delete b"}));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.counters().events, 3u);
  EXPECT_EQ(cache.counters().bookmarks, 1u);
}

TEST(InformerCache, NamespacedKeys) {
  EXPECT_EQ(InformerCache::key_of(object("web", "1", "shop")), "shop/web");
  EXPECT_EQ(InformerCache::key_of(object("n1", "1")), "n1");
  EXPECT_EQ(InformerCache::key_of(nlohmann::json::object()), "");
}

TEST(InformerCache, RelistReconcilesAFullReplace) {
  Recorder r;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({object("a", "1"), object("b", "2"), object("c", "3")}, "3");
  r.calls.clear();
  // After a 410: b vanished meanwhile, a changed, c is as it was, d is new.
  cache.replace({object("a", "9"), object("c", "3"), object("d", "10")}, "11");
  EXPECT_EQ(r.calls, (std::vector<std::string>{"delete b", "update a 1->9", "add d 10", "synced"}));
  EXPECT_EQ(cache.resource_version(), "11");
  EXPECT_EQ(cache.counters().relists, 2u);
}

TEST(InformerCache, Error410AsksForARelistAndOtherErrorsForARewatch) {
  Recorder r;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({}, "100");
  const nlohmann::json gone = {
      {"kind", "Status"},    {"apiVersion", "v1"},
      {"status", "Failure"}, {"message", "too old resource version: 5 (100)"},
      {"reason", "Expired"}, {"code", 410}};
  EXPECT_EQ(cache.apply_line(event("ERROR", gone)), LineOutcome::expired);
  EXPECT_NE(cache.last_error().find("Expired"), std::string::npos);
  nlohmann::json internal = gone;
  internal["code"] = 500;
  EXPECT_EQ(cache.apply_line(event("ERROR", internal)), LineOutcome::error);
  EXPECT_EQ(cache.resource_version(), "100");  // an ERROR moves nothing
}

TEST(InformerCache, TheUnexpectedIsCountedAndSkipped) {
  Recorder r;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({object("a", "1"), nlohmann::json{{"metadata", {{"uid", "x"}}}}}, "1");
  EXPECT_EQ(cache.counters().malformed, 1u);  // the listed object without a name
  EXPECT_EQ(cache.apply_line("{not json"), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line("[1,2]"), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line(R"({"type":"ADDED"})"), LineOutcome::applied);
  EXPECT_EQ(cache.apply_line(event("ADDED", {{"metadata", {{"resourceVersion", "4"}}}})),
            LineOutcome::applied);
  EXPECT_EQ(cache.counters().malformed, 5u);
  EXPECT_EQ(cache.resource_version(), "4");  // a skipped event is not asked for again
  EXPECT_EQ(cache.apply_line(event("RESHARDED", object("a", "5"))), LineOutcome::applied);
  EXPECT_EQ(cache.counters().unknown_types, 1u);
  EXPECT_EQ(cache.resource_version(), "5");
  std::string extra = event("MODIFIED", object("a", "6"));
  extra.insert(1, R"("traceId":"t1",)");
  EXPECT_EQ(cache.apply_line(extra), LineOutcome::applied);
  EXPECT_EQ(cache.counters().unknown_fields, 1u);
  EXPECT_EQ(r.calls, (std::vector<std::string>{"add a 1", "synced", "update a 1->6"}));
}

TEST(InformerCache, UnknownDeletesAndModifiesOfUnseenObjectsAreDeliveredSafely) {
  Recorder r;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({}, "1");
  cache.apply_line(event("MODIFIED", object("x", "2")));
  cache.apply_line(event("DELETED", object("y", "3")));
  EXPECT_EQ(r.calls, (std::vector<std::string>{"synced", "add x 2", "delete y"}));
}

TEST(InformerCache, AHandlerThatThrowsDoesNotStopTheInformer) {
  Recorder r;
  r.throw_on_add = true;
  InformerCache cache("/api/v1/nodes", r);
  cache.replace({object("a", "1")}, "1");
  EXPECT_EQ(cache.apply_line(event("ADDED", object("b", "2"))), LineOutcome::applied);
  EXPECT_EQ(cache.counters().handler_errors, 2u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(InformerCache, ManagedFieldsAreNotKept) {
  struct Keeper final : InformerHandler {
    nlohmann::json last;
    void on_add(const std::string&, const nlohmann::json& o) override { last = o; }
    void on_update(const std::string&, const nlohmann::json&, const nlohmann::json& o) override {
      last = o;
    }
    void on_delete(const std::string&, const nlohmann::json&) override {}
    void on_synced() override {}
  } keeper;
  InformerCache cache("/api/v1/nodes", keeper);
  cache.apply_line(event("ADDED", object("a", "1")));
  EXPECT_FALSE(keeper.last["metadata"].contains("managedFields"));
  EXPECT_EQ(keeper.last["metadata"]["uid"], "uid-a");
}

TEST(InformerCache, ATransformDecidesWhatIsKeptButNotTheResourceVersion) {
  Recorder r;
  // Keeps the name only, as a controller that reads one field would.
  InformerCache cache("/api/v1/nodes", r, [](const nlohmann::json& o) {
    return nlohmann::json{{"metadata", {{"name", o["metadata"]["name"]}}}};
  });
  const nlohmann::json kept = cache.stored(object("a", "1"));
  EXPECT_EQ(kept, (nlohmann::json{{"metadata", {{"name", "a"}, {"resourceVersion", "1"}}}}));
  // The cache still tells an unchanged object from a changed one on a relist.
  cache.replace({object("a", "1"), object("b", "2")}, "5");
  cache.replace({object("a", "1"), object("b", "3")}, "6");
  EXPECT_EQ(r.calls, (std::vector<std::string>{"add a 1", "add b 2", "synced", "update b 2->3",
                                               "synced"}));
}

TEST(Backoff, DoublesUpToTheCapAndResets) {
  Backoff b(std::chrono::milliseconds(500), std::chrono::milliseconds(30000));
  std::vector<long> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(static_cast<long>(b.next().count()));
  EXPECT_EQ(waits, (std::vector<long>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
  b.reset();
  EXPECT_EQ(b.next().count(), 500);
}

TEST(Query, ContinueTokensAreEncoded) {
  EXPECT_EQ(url_encoded("eyJ2Ijo/+="), "eyJ2Ijo%2F%2B%3D");
  EXPECT_EQ(with_query("/api/v1/nodes", "limit=1"), "/api/v1/nodes?limit=1");
  EXPECT_EQ(with_query("/api/v1/nodes?watch=1", "limit=1"), "/api/v1/nodes?watch=1&limit=1");
}

}  // namespace
}  // namespace podvs::agent

namespace podvs::agent {
namespace {

TEST(KubeError, StatusBodiesBecomePreciseErrors) {
  const KubeError gone =
      http_error("GET /api/v1/nodes?limit=500&continue=x", 410,
                 R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired",)"
                 R"("message":"The provided continue parameter is too old","code":410})");
  EXPECT_EQ(gone.http_status, 410);
  EXPECT_EQ(gone.reason, "Expired");
  EXPECT_STREQ(gone.what(),
               "GET /api/v1/nodes?limit=500&continue=x: HTTP 410 Expired: The provided continue "
               "parameter is too old");
  const KubeError forbidden =
      http_error("PATCH /api/v1/nodes/n1", 403,
                 R"({"kind":"Status","reason":"Forbidden","message":"nodes \"n1\" is forbidden"})");
  EXPECT_NE(std::string(forbidden.what()).find("rbac.json"), std::string::npos);
  // Not a Status (a proxy's HTML page): the start of the body is the message.
  const KubeError proxy = http_error("GET /api/v1/nodes", 502, "<html>Bad Gateway</html>");
  EXPECT_EQ(proxy.reason, "");
  EXPECT_STREQ(proxy.what(), "GET /api/v1/nodes: HTTP 502: <html>Bad Gateway</html>");
}

}  // namespace
}  // namespace podvs::agent
