// podvs-agent's cluster access: kubeconfig parsing (inline data, files, errors that name the
// field), in-cluster config and token rotation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "control/agent/cluster_config.h"

namespace podvs::agent {
namespace {

namespace fs = std::filesystem;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("podvs-agent-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // A kubeconfig whose current context uses cluster "c" and user "u" with the given bodies.
  std::string kubeconfig(const std::string& cluster, const std::string& user) {
    return write("config",
                 "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
                 "contexts:\n- name: other\n  context: {cluster: nope, user: nope}\n"
                 "- name: ctx\n  context: {cluster: c, user: u}\n"
                 "clusters:\n- name: c\n  cluster:\n" +
                     cluster + "users:\n- name: u\n  user:\n" + user);
  }

  std::string error_of(const std::string& path) {
    try {
      load_kubeconfig(path);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
};

TEST_F(KubeconfigTest, InlineDataIsDecoded) {
  // "-----BEGIN CERTIFICATE-----\n" and "key" in base64.
  const auto path = kubeconfig(
      "    server: https://10.0.0.1:6443/\n"
      "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n",
      "    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n");
  const ClusterConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(c.client_cert_pem, "cert");
  EXPECT_EQ(c.client_key_pem, "key");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_TRUE(c.ca_file.empty());
}

TEST_F(KubeconfigTest, RelativeFilesAreTakenFromTheKubeconfigsDirectory) {
  const auto path = kubeconfig(
      "    server: https://api:6443\n    certificate-authority: pki/ca.crt\n"
      "    insecure-skip-tls-verify: true\n",
      "    client-certificate: /abs/cert.pem\n    client-key: key.pem\n"
      "    tokenFile: token\n    token: fixed\n");
  const ClusterConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.ca_file, (dir_ / "pki/ca.crt").string());
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.client_cert_file, "/abs/cert.pem");
  EXPECT_EQ(c.client_key_file, (dir_ / "key.pem").string());
  EXPECT_EQ(c.token_file, (dir_ / "token").string());
  EXPECT_EQ(c.token, "fixed");
}

TEST_F(KubeconfigTest, ExecAndAuthProviderUsersAreRefusedByName) {
  auto err = error_of(kubeconfig("    server: https://api\n",
                                 "    exec:\n      command: aws\n      apiVersion: v1\n"));
  EXPECT_NE(err.find("user \"u\".exec"), std::string::npos) << err;
  EXPECT_NE(err.find("config"), std::string::npos) << err;
  err = error_of(kubeconfig("    server: https://api\n", "    auth-provider: {name: gcp}\n"));
  EXPECT_NE(err.find("user \"u\".auth-provider"), std::string::npos) << err;
}

TEST_F(KubeconfigTest, ErrorsNameTheFileAndTheField) {
  const auto path = kubeconfig("    certificate-authority: ca.crt\n", "    token: t\n");
  auto err = error_of(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("cluster \"c\".server is missing"), std::string::npos) << err;

  err = error_of(kubeconfig("    server: https://api\n    certificate-authority-data: '%%%'\n",
                            "    token: t\n"));
  EXPECT_NE(err.find("certificate-authority-data is not base64"), std::string::npos) << err;

  err =
      error_of(kubeconfig("    server: https://api\n", "    client-certificate-data: Y2VydA==\n"));
  EXPECT_NE(err.find("client-key"), std::string::npos) << err;

  err = error_of(kubeconfig("    server: ftp://api\n", "    token: t\n"));
  EXPECT_NE(err.find("not an https:// or http:// URL"), std::string::npos) << err;

  err = error_of(write("noctx", "apiVersion: v1\ncurrent-context: gone\ncontexts: []\n"));
  EXPECT_NE(err.find("no entry named \"gone\" in contexts (current-context)"), std::string::npos)
      << err;

  err = error_of(write("bad", "clusters: [\n"));
  EXPECT_NE(err.find("is not YAML"), std::string::npos) << err;

  err = error_of((dir_ / "missing").string());
  EXPECT_NE(err.find("cannot read kubeconfig"), std::string::npos) << err;
}

TEST_F(KubeconfigTest, InClusterNeedsTheServiceEnvironmentAndReadsTheAccount) {
  InClusterSource source;
  source.token_file = write("token", "tok-1\n");
  source.ca_file = write("ca.crt", "pem");
  EXPECT_THROW(load_in_cluster(source), ConfigError);  // no host or port
  source.host = "fd00::1";
  source.port = "443";
  const ClusterConfig c = load_in_cluster(source);
  EXPECT_EQ(c.server, "https://[fd00::1]:443");
  EXPECT_EQ(c.ca_file, source.ca_file);
  EXPECT_EQ(c.token_file, source.token_file);
  source.ca_file = (dir_ / "absent").string();
  try {
    load_in_cluster(source);
    FAIL() << "a missing CA file is accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(source.ca_file), std::string::npos) << e.what();
  }
}

TEST_F(KubeconfigTest, TokenFileIsReadAgainWhenRotated) {
  const auto path = write("token", "first\n");
  TokenFile token(path);
  EXPECT_EQ(token.token(), "first");
  // The kubelet replaces the file; a different size or mtime says so.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write("token", "second-token");
  EXPECT_EQ(token.token(), "second-token");
  write("token", "");
  EXPECT_THROW(token.token(), ConfigError);
  fs::remove(path);
  EXPECT_THROW(token.token(), ConfigError);
}

}  // namespace
}  // namespace podvs::agent
