#include "control/agent/cluster_config.h"

#include <openssl/evp.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace podvs::agent {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The *-data fields of a kubeconfig are base64 (RFC 4648 with padding), decoded by OpenSSL.
std::string base64_decoded(const std::string& text, const std::string& where) {
  std::string in;
  for (char c : text)
    if (c != '\n' && c != '\r' && c != ' ') in += c;
  if (in.size() % 4 != 0)
    throw ConfigError(where + " is not base64: its length is not a multiple of 4");
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) throw ConfigError(where + " is not base64");
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = in.size() >= 2 && in[in.size() - 2] == '=' ? 2 : 1;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The entry of a named list ("clusters", "users", "contexts") whose name is `name`, or throws.
YAML::Node named_entry(const YAML::Node& root, const std::string& file, const std::string& list,
                       const std::string& name, const std::string& field, const std::string& why) {
  const YAML::Node entries = root[list];
  if (entries && !entries.IsSequence())
    throw ConfigError("kubeconfig " + file + ": " + list + " is not a list");
  if (entries) {
    for (size_t i = 0; i < entries.size(); ++i) {
      const YAML::Node entry = entries[i];
      if (entry["name"] && entry["name"].as<std::string>() == name) {
        const YAML::Node body = entry[field];
        if (!body || !body.IsMap())
          throw ConfigError("kubeconfig " + file + ": " + list + "[" + std::to_string(i) + "] (\"" +
                            name + "\") has no " + field + " map");
        return body;
      }
    }
  }
  throw ConfigError("kubeconfig " + file + ": no entry named \"" + name + "\" in " + list + " (" +
                    why + ")");
}

std::string string_field(const YAML::Node& map, const char* key, const std::string& where) {
  const YAML::Node value = map[key];
  if (!value) return "";
  if (!value.IsScalar()) throw ConfigError(where + "." + key + " is not a string");
  return value.as<std::string>();
}

std::string resolved(const std::string& path, const fs::path& dir) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (dir / path).string();
}

void read_cluster(const YAML::Node& cluster, const std::string& where, const fs::path& dir,
                  ClusterConfig& config) {
  config.server = string_field(cluster, "server", where);
  if (config.server.empty()) throw ConfigError(where + ".server is missing");
  config.ca_file = resolved(string_field(cluster, "certificate-authority", where), dir);
  const std::string ca_data = string_field(cluster, "certificate-authority-data", where);
  if (!ca_data.empty())
    config.ca_pem = base64_decoded(ca_data, where + ".certificate-authority-data");
  const std::string insecure = string_field(cluster, "insecure-skip-tls-verify", where);
  if (!insecure.empty() && insecure != "true" && insecure != "false")
    throw ConfigError(where + ".insecure-skip-tls-verify is \"" + insecure +
                      "\", not true or false");
  config.insecure_skip_tls_verify = insecure == "true";
}

void read_user(const YAML::Node& user, const std::string& where, const fs::path& dir,
               ClusterConfig& config) {
  // Credential plugins run programs (cloud CLIs) the agent's image does not carry; say so rather
  // than fail later with a 401.
  if (user["exec"])
    throw ConfigError(where +
                      ".exec: credential plugins (exec) are not supported by "
                      "podvs-agent; give the user a token, tokenFile or client certificate");
  if (user["auth-provider"])
    throw ConfigError(where +
                      ".auth-provider: auth providers are not supported by podvs-agent; "
                      "give the user a token, tokenFile or client certificate");
  config.client_cert_file = resolved(string_field(user, "client-certificate", where), dir);
  config.client_key_file = resolved(string_field(user, "client-key", where), dir);
  const std::string cert = string_field(user, "client-certificate-data", where);
  const std::string key = string_field(user, "client-key-data", where);
  if (!cert.empty())
    config.client_cert_pem = base64_decoded(cert, where + ".client-certificate-data");
  if (!key.empty()) config.client_key_pem = base64_decoded(key, where + ".client-key-data");
  const bool has_cert = !config.client_cert_file.empty() || !config.client_cert_pem.empty();
  const bool has_key = !config.client_key_file.empty() || !config.client_key_pem.empty();
  if (has_cert != has_key)
    throw ConfigError(where +
                      ": client-certificate and client-key come together; one of them "
                      "is missing");
  config.token = string_field(user, "token", where);
  config.token_file = resolved(string_field(user, "tokenFile", where), dir);
}

}  // namespace

std::string TokenFile::token() {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  const auto mtime = fs::last_write_time(path_, ec);
  const auto size = ec ? 0 : fs::file_size(path_, ec);
  if (ec) throw ConfigError("cannot read the token file " + path_ + ": " + ec.message());
  if (token_.empty() || mtime != seen_mtime_ || size != seen_size_) {
    std::string token = trimmed(read_text(path_, "the token file"));
    if (token.empty()) throw ConfigError("the token file " + path_ + " is empty");
    token_ = std::move(token);
    seen_mtime_ = mtime;
    seen_size_ = size;
  }
  return token_;
}

InClusterSource in_cluster_from_environment() {
  InClusterSource source;
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) source.host = host;
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT")) source.port = port;
  return source;
}

ClusterConfig load_in_cluster(const InClusterSource& source) {
  if (source.host.empty() || source.port.empty())
    throw ConfigError(
        "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
        "not both set (outside a pod, pass --kubeconfig FILE)");
  ClusterConfig config;
  config.source = "in-cluster service account";
  // An IPv6 service address needs brackets in a URL.
  const bool v6 = source.host.find(':') != std::string::npos;
  config.server = "https://" + (v6 ? "[" + source.host + "]" : source.host) + ":" + source.port;
  config.ca_file = source.ca_file;
  if (!fs::exists(source.ca_file))
    throw ConfigError("in-cluster: the service account's CA file " + source.ca_file +
                      " does not exist (is automountServiceAccountToken off?)");
  config.token_file = source.token_file;
  TokenFile(source.token_file).token();  // fail now, not at the first request
  return config;
}

ClusterConfig load_kubeconfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(read_text(path, "kubeconfig"));
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig " + path + " is not YAML: " + e.what());
  }
  if (!root.IsMap()) throw ConfigError("kubeconfig " + path + " is not a YAML map");
  ClusterConfig config;
  config.source = "kubeconfig " + path;
  const fs::path dir = fs::absolute(path).parent_path();
  try {
    const std::string context_name = string_field(root, "current-context", "kubeconfig " + path);
    if (context_name.empty())
      throw ConfigError("kubeconfig " + path + ": current-context is missing or empty");
    const YAML::Node context =
        named_entry(root, path, "contexts", context_name, "context", "current-context");
    const std::string where = "kubeconfig " + path + ": context \"" + context_name + "\"";
    const std::string cluster_name = string_field(context, "cluster", where);
    const std::string user_name = string_field(context, "user", where);
    if (cluster_name.empty()) throw ConfigError(where + " names no cluster");
    read_cluster(named_entry(root, path, "clusters", cluster_name, "cluster",
                             "the cluster of context \"" + context_name + "\""),
                 "kubeconfig " + path + ": cluster \"" + cluster_name + "\"", dir, config);
    if (!user_name.empty())
      read_user(named_entry(root, path, "users", user_name, "user",
                            "the user of context \"" + context_name + "\""),
                "kubeconfig " + path + ": user \"" + user_name + "\"", dir, config);
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig " + path + ": " + e.what());
  }
  override_server(config, config.server);
  return config;
}

void override_server(ClusterConfig& config, const std::string& url) {
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    throw ConfigError("the API server \"" + url + "\" (" + config.source +
                      ") is not an https:// or http:// URL");
  config.server = url;
  while (config.server.size() > 8 && config.server.back() == '/') config.server.pop_back();
}

std::string default_node_name() {
  if (const char* name = std::getenv("NODE_NAME"); name && *name) return name;
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) != 0)
    throw ConfigError(std::string("cannot read the host name for --node-name: ") +
                      std::strerror(errno));
  return host;
}

}  // namespace podvs::agent
