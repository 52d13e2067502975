// Where the Kubernetes API server is and how podvs-agent proves who it is: read from the pod's
// service account (in-cluster) or from a kubeconfig file. Every error is a ConfigError whose
// sentence names the file and the field, so a broken deployment says what to fix.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>

namespace podvs::agent {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A bearer token read from a file and read again when the file changes: the kubelet rotates
// projected service-account tokens (about hourly) by replacing the file, and an old token is
// refused once it expires.
class TokenFile {
 public:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}
  TokenFile(const TokenFile& other) : path_(other.path_) {}
  const std::string& path() const { return path_; }
  // The current token; throws ConfigError when the file cannot be read or is empty.
  std::string token();

 private:
  std::string path_;
  std::mutex mutex_;
  std::filesystem::file_time_type seen_mtime_{};
  std::uintmax_t seen_size_ = 0;
  std::string token_;
};

struct ClusterConfig {
  std::string server;  // https://host:port, no trailing slash
  std::string source;  // for messages: "in-cluster service account" or "kubeconfig FILE"
  // Trust: a CA bundle file, or its PEM text (certificate-authority-data), or no verification.
  std::string ca_file, ca_pem;
  bool insecure_skip_tls_verify = false;
  // Client certificate authentication, as files or PEM text.
  std::string client_cert_file, client_cert_pem, client_key_file, client_key_pem;
  // Bearer token: fixed, or from a file re-read on change (token_file wins when both are set).
  std::string token;
  std::string token_file;
};

// The in-cluster paths and environment, as parameters so tests can point them elsewhere.
struct InClusterSource {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string host;  // $KUBERNETES_SERVICE_HOST
  std::string port;  // $KUBERNETES_SERVICE_PORT
};

InClusterSource in_cluster_from_environment();
ClusterConfig load_in_cluster(const InClusterSource& source);
// The current context's cluster and user. Relative paths are taken from the kubeconfig's
// directory, as kubectl does.
ClusterConfig load_kubeconfig(const std::string& path);
// --api-server overrides the server of either source; it must be an https:// or http:// URL.
void override_server(ClusterConfig& config, const std::string& url);
// $NODE_NAME (the downward API in the DaemonSet), else the host name.
std::string default_node_name();

}  // namespace podvs::agent
