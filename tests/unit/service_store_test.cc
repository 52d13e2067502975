// ServiceStore: one file per Service, replaced atomically, read back field for field, and every
// kind of damage reported with the file's name.
#include "control/daemon/service_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/unit/service_spec_compare.h"

namespace podvs {
namespace {

namespace fs = std::filesystem;
using test::expect_same;

class ServiceStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/podvs-service-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string state_dir() const { return root_ + "/state"; }
  std::string services_dir() const { return state_dir() + "/services"; }

  static void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string read_file(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
  }

  // load_all() must throw, naming the file and containing `fragment`.
  void expect_load_error(const ServiceStore& store, const std::string& file,
                         const std::string& fragment) {
    try {
      store.load_all();
      ADD_FAILURE() << "loaded a damaged file: " << fragment;
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
    }
  }

  std::string root_;
};

// Distinct non-default values in every field, so a dropped or swapped field shows.
ServiceSpec sample_service() {
  ServiceSpec s;
  s.ns = "kube-system";
  s.name = "dns";
  s.cluster_ip = "10.96.0.10";
  s.external_ips = {"203.0.113.10", "198.51.100.7"};
  s.ports = {{"dns", ServiceProto::udp, 53, 5353, 30053},
             {"dns-tcp", ServiceProto::tcp, 54, 5354, 0}};
  s.endpoints = {{"10.244.0.5", true, true, false, {{"dns", 8053}, {"dns-tcp", 8054}}},
                 {"10.244.1.6", false, true, true, {{"dns", 9053}}},
                 {"10.244.2.7", false, false, true, {}}};
  s.client_ip_affinity = true;
  s.affinity_timeout_s = 600;
  s.external_traffic_policy = TrafficPolicy::local;
  s.internal_traffic_policy = TrafficPolicy::local;
  s.owner = "podvs-agent";
  return s;
}

TEST_F(ServiceStoreTest, CreatesAPrivateServicesDirectory) {
  ServiceStore store(state_dir());
  EXPECT_EQ(store.dir(), services_dir());
  struct stat st {};
  ASSERT_EQ(::stat(services_dir().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(store.load_all().empty());
}

TEST_F(ServiceStoreTest, RefusesAFileWhereTheDirectoryShouldBe) {
  fs::create_directories(state_dir());
  write_file(services_dir(), "");
  try {
    ServiceStore store(state_dir());
    FAIL() << "accepted a file as the services directory";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "service directory " + services_dir() + " exists but is not a directory");
  }
}

TEST_F(ServiceStoreTest, SaveLoadRoundTripsEveryField) {
  ServiceStore store(state_dir());
  ServiceSpec other = sample_service();
  other.ns = "default";
  other.name = "web";
  other.ports = {{"", ServiceProto::tcp, 80, 80, 0}};
  other.endpoints.clear();
  other.client_ip_affinity = false;
  other.external_traffic_policy = TrafficPolicy::cluster;
  store.save(sample_service());
  store.save(other);
  store.flush();
  EXPECT_TRUE(fs::exists(services_dir() + "/kube-system.dns.json"));
  EXPECT_EQ(store.file("default", "web"), services_dir() + "/default.web.json");

  const auto loaded = ServiceStore(state_dir()).load_all();  // as a restarted podvsd would
  ASSERT_EQ(loaded.size(), 2u);
  expect_same(loaded[0], other);  // default.web.json sorts before kube-system.dns.json
  expect_same(loaded[1], sample_service());
  EXPECT_FALSE(fs::exists(services_dir() + "/kube-system.dns.json.tmp"));
}

// Files written before endpoints had ports and Services owners: absent means none and "".
TEST_F(ServiceStoreTest, FilesWithoutEndpointPortsOrOwnerStillLoad) {
  ServiceStore store(state_dir());
  fs::create_directories(services_dir());
  write_file(store.file("default", "web"), R"({"version": 1, "namespace": "default",
    "name": "web", "cluster_ip": "10.96.0.10",
    "ports": [{"name": "http", "protocol": "tcp", "port": 80, "target_port": 8080,
               "node_port": 0}],
    "endpoints": [{"ip": "10.244.0.5", "ready": true, "serving": true, "terminating": false}],
    "client_ip_affinity": false, "affinity_timeout_s": 10800,
    "external_traffic_policy": "cluster", "internal_traffic_policy": "cluster"})");
  const auto loaded = store.load_all();
  ASSERT_EQ(loaded.size(), 1u);
  ASSERT_EQ(loaded[0].endpoints.size(), 1u);
  EXPECT_TRUE(loaded[0].endpoints[0].ports.empty());
  EXPECT_EQ(loaded[0].owner, "");
  EXPECT_TRUE(loaded[0].external_ips.empty());
}

TEST_F(ServiceStoreTest, SaveReplacesAndRemoveDeletes) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  store.flush();
  ServiceSpec changed = sample_service();
  changed.endpoints.resize(1);
  store.save(changed);
  store.flush();
  auto loaded = store.load_all();
  ASSERT_EQ(loaded.size(), 1u);
  expect_same(loaded[0], changed);

  store.remove("kube-system", "dns");
  EXPECT_TRUE(store.load_all().empty());
  store.remove("kube-system", "dns");  // a missing file is not an error
}

TEST_F(ServiceStoreTest, TheFileIsReadableJson) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  store.flush();
  const std::string text = read_file(store.file("kube-system", "dns"));
  EXPECT_EQ(text.rfind("{\n  \"version\": 1,\n  \"namespace\": \"kube-system\",\n", 0), 0u) << text;
  EXPECT_NE(text.find("\"protocol\": \"udp\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"external_traffic_policy\": \"local\""), std::string::npos) << text;
}

TEST_F(ServiceStoreTest, ALeftoverTemporaryFileIsIgnoredAndRemoved) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  store.flush();
  const std::string tmp = services_dir() + "/kube-system.dns.json.tmp";
  write_file(tmp, "{\"version\": 1, \"namesp");  // a save cut short by a crash
  const auto loaded = ServiceStore(state_dir()).load_all();
  ASSERT_EQ(loaded.size(), 1u);
  expect_same(loaded[0], sample_service());
  EXPECT_FALSE(fs::exists(tmp));
}

TEST_F(ServiceStoreTest, SaveFailureNamesTheFileAndKeepsTheOldVersion) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  store.flush();
  // A directory where the temporary file should go makes open() fail.
  fs::create_directories(services_dir() + "/kube-system.dns.json.tmp");
  ServiceSpec changed = sample_service();
  changed.cluster_ip = "10.96.0.11";
  try {
    store.save(changed);
    FAIL() << "save succeeded over a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create " + services_dir() +
                                         "/kube-system.dns.json.tmp: Is a directory"),
              std::string::npos)
        << e.what();
  }
  fs::remove(services_dir() + "/kube-system.dns.json.tmp");
  ASSERT_EQ(store.load_all().size(), 1u);
  EXPECT_EQ(store.load_all()[0].cluster_ip, "10.96.0.10");
}

TEST_F(ServiceStoreTest, DamagedFilesAreReportedByName) {
  ServiceStore store(state_dir());
  const std::string file = store.file("default", "web");
  store.save(sample_service());
  store.flush();
  const std::string good = read_file(store.file("kube-system", "dns"));
  fs::remove(store.file("kube-system", "dns"));

  write_file(file, "{\"version\": 1,");
  expect_load_error(store, file, "is corrupt: it is not valid JSON (byte 15 of 14)");
  write_file(file, "[]");
  expect_load_error(store, file, "is corrupt: the top level is not a JSON object");
  write_file(file, "{\"version\": 2}");
  expect_load_error(store, file, "has version 2 but this podvsd reads version 1 only");

  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    write_file(file, text.replace(at, from.size(), to));
  };
  with("\"cluster_ip\"", "\"clusterIP\"");
  expect_load_error(store, file, "is corrupt: the top level has no \"cluster_ip\" field");
  with("\"protocol\": \"udp\"", "\"protocol\": \"sctp\"");
  expect_load_error(store, file, "is corrupt: ports[0].protocol \"sctp\" is not tcp or udp");
  with("\"port\": 53", "\"port\": 65536");
  expect_load_error(store, file, "is corrupt: ports[0].port is not a whole number in 0..65535");
  with("\"ready\": true", "\"ready\": \"yes\"");
  expect_load_error(store, file, "is corrupt: endpoints[0].ready is not true or false");
  with("\"port\": 8054", "\"port\": -1");
  expect_load_error(store, file,
                    "is corrupt: endpoints[0].ports[1].port is not a whole number in 0..65535");
  with("\"203.0.113.10\"", "7");
  expect_load_error(store, file,
                    "is corrupt: external_ips[0] is not a string such as \"203.0.113.10\"");
  with("\"owner\": \"podvs-agent\"", "\"owner\": 7");
  expect_load_error(store, file, "is corrupt: the top level.owner is not a string");
  with("\"internal_traffic_policy\": \"local\"", "\"internal_traffic_policy\": \"nearby\"");
  expect_load_error(store, file,
                    "is corrupt: internal_traffic_policy \"nearby\" is not cluster or local");
  with("\"endpoints\": [", "\"endpoints\": 3, \"x\": [");
  expect_load_error(store, file, "is corrupt: \"endpoints\" is not an array");
  // The right content under another Service's file name.
  write_file(file, good);
  expect_load_error(store, file,
                    "is corrupt: it holds service kube-system/dns, whose file would be " +
                        store.file("kube-system", "dns"));
}

TEST_F(ServiceStoreTest, ASaveIsInPlaceOnlyAfterTheFlush) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  EXPECT_EQ(store.pending(), 1u);
  EXPECT_FALSE(fs::exists(store.file("kube-system", "dns")));
  store.flush();
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_TRUE(fs::exists(store.file("kube-system", "dns")));
  EXPECT_FALSE(fs::exists(store.file("kube-system", "dns") + ".tmp"));
  EXPECT_EQ(ServiceStore(state_dir()).load_all().size(), 1u);
}

TEST_F(ServiceStoreTest, FlushIfDueWaitsForTheFlushDelay) {
  ServiceStore store(state_dir());
  const auto start = std::chrono::steady_clock::now();
  store.save(sample_service());
  store.flush_if_due(start);
  EXPECT_EQ(store.pending(), 1u);
  store.flush_if_due(std::chrono::steady_clock::now() + ServiceStore::kFlushDelay);
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_EQ(store.load_all().size(), 1u);
}

TEST_F(ServiceStoreTest, ManyPendingSavesFlushThemselves) {
  ServiceStore store(state_dir());
  ServiceSpec s = sample_service();
  for (size_t i = 0; i + 1 < ServiceStore::kMaxPending; ++i) {
    s.name = "svc-" + std::to_string(i);
    store.save(s);
  }
  EXPECT_EQ(store.pending(), ServiceStore::kMaxPending - 1);
  s.name = "last";
  store.save(s);
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_EQ(ServiceStore(state_dir()).load_all().size(), ServiceStore::kMaxPending);
}

TEST_F(ServiceStoreTest, RemoveDropsAPendingSave) {
  ServiceStore store(state_dir());
  store.save(sample_service());
  store.flush();
  ServiceSpec changed = sample_service();
  changed.cluster_ip = "10.96.0.99";
  store.save(changed);
  store.remove("kube-system", "dns");
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_FALSE(fs::exists(store.file("kube-system", "dns") + ".tmp"));
  store.flush();
  EXPECT_TRUE(store.load_all().empty());
  store.save(changed);  // and a save after the remove is kept
  store.flush();
  ASSERT_EQ(store.load_all().size(), 1u);
  EXPECT_EQ(store.load_all()[0].cluster_ip, "10.96.0.99");
}

}  // namespace
}  // namespace podvs
