#include "control/daemon/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace podvs {
namespace {

namespace fs = std::filesystem;

class StateStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/podvs-state-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string dir() const { return root_ + "/state"; }

  static void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string read_file(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
  }

  std::string root_;
};

SwitchState sample_state() {
  SwitchState state;
  state.pod_cidr = "10.244.0.0/24";
  state.ipam_cursor = *parse_ipv4("10.244.0.7");
  PodRecord tap;
  tap.spec = {"c0ffee",   "/var/run/netns/cni-1", "eth0", PortKind::tap, false, "default", "web-1",
              "cni:podvs"};
  tap.ip = *parse_ipv4("10.244.0.5");
  tap.mac = MacAddr::from_ipv4(tap.ip);
  PodRecord vhost;
  vhost.spec = {"beef", "/var/run/netns/cni-2", "net1", PortKind::vhost_user, true, "dpdk", "gen",
                "",   4};
  vhost.ip = *parse_ipv4("10.244.0.7");
  vhost.mac = *MacAddr::parse("02:00:00:ab:cd:ef");
  vhost.socket_path = "/run/podvs/vhost/beef/vhost.sock";
  PodRecord host;
  host.spec.id = "host";
  host.spec.kind = PortKind::host;
  host.ip = *parse_ipv4("10.244.0.1");
  state.pods = {tap, vhost, host};
  state.nodes = {
      {"node-2", "10.244.2.0/24", "192.168.1.20", "02:00:00:00:00:02", "podvs-agent", "", "", ""},
      {"node-3", "10.244.3.0/24", "192.168.1.30", "02:00:00:00:00:03", "", "", "", ""}};
  return state;
}

void expect_same(const SwitchState& a, const SwitchState& b) {
  EXPECT_EQ(a.pod_cidr, b.pod_cidr);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
    EXPECT_EQ(a.nodes[i].pod_cidr, b.nodes[i].pod_cidr);
    EXPECT_EQ(a.nodes[i].node_ip, b.nodes[i].node_ip);
    EXPECT_EQ(a.nodes[i].vtep_mac, b.nodes[i].vtep_mac);
    EXPECT_EQ(a.nodes[i].owner, b.nodes[i].owner);
  }
  EXPECT_EQ(a.ipam_cursor, b.ipam_cursor);
  ASSERT_EQ(a.pods.size(), b.pods.size());
  for (size_t i = 0; i < a.pods.size(); ++i) {
    SCOPED_TRACE("pod " + std::to_string(i));
    const PodRecord& x = a.pods[i];
    const PodRecord& y = b.pods[i];
    EXPECT_EQ(x.spec.id, y.spec.id);
    EXPECT_EQ(x.spec.netns, y.spec.netns);
    EXPECT_EQ(x.spec.ifname, y.spec.ifname);
    EXPECT_EQ(x.spec.kind, y.spec.kind);
    EXPECT_EQ(x.spec.vhost_server, y.spec.vhost_server);
    EXPECT_EQ(x.spec.k8s_namespace, y.spec.k8s_namespace);
    EXPECT_EQ(x.spec.k8s_name, y.spec.k8s_name);
    EXPECT_EQ(x.spec.owner, y.spec.owner);
    EXPECT_EQ(x.spec.queues, y.spec.queues);
    EXPECT_EQ(x.ip, y.ip);
    EXPECT_EQ(x.mac, y.mac);
    EXPECT_EQ(x.socket_path, y.socket_path);
  }
}

std::string load_error(const StateStore& store) {
  try {
    store.load();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(StateStoreTest, RoundTripsEveryField) {
  StateStore store(dir());
  store.save(sample_state());
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  expect_same(*loaded, sample_state());
  EXPECT_NE(read_file(store.file()).find("\"vhost-user\""), std::string::npos);
  EXPECT_NE(read_file(store.file()).find("\"version\": 1"), std::string::npos);
}

// Files written before nodes had owners: absent means an operator's node.
TEST_F(StateStoreTest, NodeWithoutOwnerLoadsAsAnOperators) {
  StateStore store(dir());
  write_file(store.file(), R"({"version": 1, "pod_cidr": "10.244.0.0/24",
    "ipam_cursor": "10.244.0.0", "pods": [],
    "nodes": [{"name": "n2", "pod_cidr": "10.244.2.0/24", "node_ip": "192.168.1.20",
               "vtep_mac": "02:00:00:00:00:02"}]})");
  const auto loaded = store.load();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->nodes.size(), 1u);
  EXPECT_EQ(loaded->nodes[0].name, "n2");
  EXPECT_EQ(loaded->nodes[0].owner, "");
  store.save(*loaded);
  EXPECT_NE(read_file(store.file()).find(R"("owner": "")"), std::string::npos);
}

// Files written before pods had queue pairs: absent means one; beyond the API's limit is refused.
TEST_F(StateStoreTest, PodQueuesDefaultToOneAndAreBounded) {
  StateStore store(dir());
  const std::string pod =
      R"({"id": "p", "netns": "", "ifname": "eth0", "kind": "vhost-user", "vhost_server": false,
          "k8s_namespace": "", "k8s_name": "", "ip": "10.244.0.5", "mac": "0a:58:0a:f4:00:05",
          "socket_path": "/run/p.sock")";
  auto file = [&](const std::string& extra) {
    return R"({"version": 1, "pod_cidr": "10.244.0.0/24", "ipam_cursor": "10.244.0.0",
      "nodes": [], "pods": [)" +
           pod + extra + "}]}";
  };
  write_file(store.file(), file(""));
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->pods.at(0).spec.queues, 1);
  write_file(store.file(), file(R"(, "queues": 16)"));
  loaded = store.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->pods.at(0).spec.queues, 16);
  write_file(store.file(), file(R"(, "queues": 17)"));
  EXPECT_NE(load_error(store).find("pods[0].queues"), std::string::npos) << load_error(store);
  write_file(store.file(), file(R"(, "queues": 0)"));
  EXPECT_NE(load_error(store).find("pods[0].queues is 0"), std::string::npos)
      << load_error(store);
}

TEST_F(StateStoreTest, MissingFileLoadsAsNoState) {
  StateStore store(dir());
  EXPECT_EQ(store.file(), dir() + "/state.json");
  EXPECT_FALSE(store.load());
}

TEST_F(StateStoreTest, TruncatedFileIsReportedWithItsName) {
  StateStore store(dir());
  store.save(sample_state());
  const std::string full = read_file(store.file());
  write_file(store.file(), full.substr(0, full.size() / 2));
  const std::string error = load_error(store);
  EXPECT_NE(error.find(store.file()), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
}

TEST_F(StateStoreTest, BadFieldIsNamedInTheError) {
  StateStore store(dir());
  store.save(sample_state());
  std::string text = read_file(store.file());
  const std::string good = "\"ip\": \"10.244.0.7\"";
  text.replace(text.find(good), good.size(), "\"ip\": \"10.244.0.\"");
  write_file(store.file(), text);
  const std::string error = load_error(store);
  EXPECT_NE(error.find(store.file()), std::string::npos) << error;
  EXPECT_NE(error.find("pods[1].ip"), std::string::npos) << error;
}

TEST_F(StateStoreTest, UnknownVersionIsRejected) {
  StateStore store(dir());
  write_file(store.file(), R"({"version": 2, "pod_cidr": "10.0.0.0/24", "pods": []})");
  const std::string error = load_error(store);
  EXPECT_NE(error.find(store.file()), std::string::npos) << error;
  EXPECT_NE(error.find("version 2"), std::string::npos) << error;
  write_file(store.file(), R"({"pod_cidr": "10.0.0.0/24", "pods": []})");
  EXPECT_NE(load_error(store).find("\"version\""), std::string::npos) << load_error(store);
}

TEST_F(StateStoreTest, StaleTempFileFromACrashIsIgnored) {
  StateStore store(dir());
  store.save(sample_state());
  write_file(store.file() + ".tmp", "{\"version\": 1, \"pods\": [{\"id\"");
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  expect_same(*loaded, sample_state());
  SwitchState empty;
  empty.pod_cidr = "10.244.0.0/24";
  store.save(empty);
  EXPECT_TRUE(store.load()->pods.empty());
  EXPECT_FALSE(fs::exists(store.file() + ".tmp"));
}

TEST_F(StateStoreTest, SaveReplacesTheWholeFile) {
  StateStore store(dir());
  store.save(sample_state());
  SwitchState smaller;
  smaller.pod_cidr = "10.244.0.0/24";
  smaller.pods = {sample_state().pods[0]};
  store.save(smaller);
  auto loaded = store.load();
  ASSERT_TRUE(loaded);
  expect_same(*loaded, smaller);
  EXPECT_FALSE(fs::exists(store.file() + ".tmp"));
}

TEST_F(StateStoreTest, FailedSaveLeavesTheOldStateInFull) {
  StateStore store(dir());
  store.save(sample_state());
  const std::string before = read_file(store.file());
  fs::create_directory(store.file() + ".tmp");  // makes writing the temp file fail
  try {
    store.save(SwitchState{});
    FAIL() << "save succeeded although the temp file could not be written";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(store.file() + ".tmp"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(store.file()), before);
}

TEST_F(StateStoreTest, CreatesTheDirectoryWithMode0700) {
  const std::string nested = root_ + "/a/b";
  StateStore store(nested);
  struct stat st {};
  ASSERT_EQ(stat(nested.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  StateStore again(nested);  // an existing directory is fine
}

TEST_F(StateStoreTest, DirectoryThatCannotBeCreatedIsReportedWithItsPath) {
  write_file(root_ + "/file", "");
  try {
    StateStore store(root_ + "/file/state");
    FAIL() << "no error for a directory below a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(root_ + "/file"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Not a directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace podvs
