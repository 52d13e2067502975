#include "control/daemon/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "control/daemon/file_io.h"

namespace podvs {
namespace {

// Ordered so the file reads version first and each pod in the order of PodSpec.
using json = nlohmann::ordered_json;

// Bump when the layout changes incompatibly; load() refuses versions it does not know rather than
// guessing and re-creating ports from misread state.
constexpr int kFormatVersion = 1;

void make_directory(const std::string& dir) {
  if (dir.empty()) throw std::runtime_error("the state directory path is empty");
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string path = dir.substr(0, slash);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      throw_system_error("cannot create state directory", path);
    if (slash == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw_system_error("cannot stat state directory", dir);
  if (!S_ISDIR(st.st_mode))
    throw std::runtime_error("state directory " + dir + " exists but is not a directory");
}

json encode(const SwitchState& state) {
  json pods = json::array();
  for (const PodRecord& pod : state.pods) {
    pods.push_back({{"id", pod.spec.id},
                    {"netns", pod.spec.netns},
                    {"ifname", pod.spec.ifname},
                    {"kind", port_kind_name(pod.spec.kind)},
                    {"vhost_server", pod.spec.vhost_server},
                    {"k8s_namespace", pod.spec.k8s_namespace},
                    {"k8s_name", pod.spec.k8s_name},
                    {"owner", pod.spec.owner},
                    {"ip", ipv4_str(pod.ip)},
                    {"mac", pod.mac.str()},
                    {"socket_path", pod.socket_path}});
  }
  json nodes = json::array();
  for (const RemoteNodeSpec& node : state.nodes)
    nodes.push_back({{"name", node.name},
                     {"pod_cidr", node.pod_cidr},
                     {"node_ip", node.node_ip},
                     {"vtep_mac", node.vtep_mac}});
  return {{"version", kFormatVersion},
          {"pod_cidr", state.pod_cidr},
          {"ipam_cursor", ipv4_str(state.ipam_cursor)},
          {"pods", std::move(pods)},
          {"nodes", std::move(nodes)}};
}

// Reads the JSON back, naming the file and the offending field in every error.
class Decoder {
 public:
  explicit Decoder(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("state file " + file_ + " is corrupt: " + what +
                             "; fix or remove the file (podvsd then starts with no pods)");
  }

  const json& field(const json& object, const char* key, const std::string& where) const {
    auto it = object.find(key);
    if (it == object.end()) fail(where + " has no \"" + key + "\" field");
    return *it;
  }

  std::string string(const json& object, const char* key, const std::string& where) const {
    const json& value = field(object, key, where);
    if (!value.is_string()) fail(where + "." + key + " is not a string");
    return value.get<std::string>();
  }

  bool boolean(const json& object, const char* key, const std::string& where) const {
    const json& value = field(object, key, where);
    if (!value.is_boolean()) fail(where + "." + key + " is not true or false");
    return value.get<bool>();
  }

  Ipv4 ipv4(const json& object, const char* key, const std::string& where) const {
    const std::string text = string(object, key, where);
    auto ip = parse_ipv4(text);
    if (!ip) fail(where + "." + key + " \"" + text + "\" is not an IPv4 address");
    return *ip;
  }

  MacAddr mac(const json& object, const char* key, const std::string& where) const {
    const std::string text = string(object, key, where);
    auto mac = MacAddr::parse(text);
    if (!mac) fail(where + "." + key + " \"" + text + "\" is not a MAC address");
    return *mac;
  }

  PortKind kind(const json& object, const char* key, const std::string& where) const {
    const std::string text = string(object, key, where);
    for (PortKind kind : {PortKind::tap, PortKind::vhost_user, PortKind::host})
      if (text == port_kind_name(kind)) return kind;
    fail(where + "." + key + " \"" + text + "\" is not one of tap, vhost-user, host");
  }

  SwitchState state(const json& root) const {
    if (!root.is_object()) fail("the top level is not a JSON object");
    const json& version = field(root, "version", "the top level");
    if (!version.is_number_integer()) fail("\"version\" is not an integer");
    if (version.get<int>() != kFormatVersion)
      throw std::runtime_error("state file " + file_ + " has version " + version.dump() +
                               " but this podvsd reads version " + std::to_string(kFormatVersion) +
                               " only; run the podvsd that wrote it, or remove the file (podvsd " +
                               "then starts with no pods)");
    SwitchState state;
    state.pod_cidr = string(root, "pod_cidr", "the top level");
    state.ipam_cursor = ipv4(root, "ipam_cursor", "the top level");
    const json& pods = field(root, "pods", "the top level");
    if (!pods.is_array()) fail("\"pods\" is not an array");
    for (size_t i = 0; i < pods.size(); ++i) {
      const std::string where = "pods[" + std::to_string(i) + "]";
      if (!pods[i].is_object()) fail(where + " is not an object");
      state.pods.push_back(pod(pods[i], where));
    }
    // Added after version 1 was first written: absent means no remote nodes.
    if (root.contains("nodes")) {
      const json& nodes = root["nodes"];
      if (!nodes.is_array()) fail("\"nodes\" is not an array");
      for (size_t i = 0; i < nodes.size(); ++i) {
        const std::string where = "nodes[" + std::to_string(i) + "]";
        if (!nodes[i].is_object()) fail(where + " is not an object");
        state.nodes.push_back(RemoteNodeSpec{
            string(nodes[i], "name", where), string(nodes[i], "pod_cidr", where),
            string(nodes[i], "node_ip", where), string(nodes[i], "vtep_mac", where), "", "", ""});
      }
    }
    return state;
  }

  PodRecord pod(const json& object, const std::string& where) const {
    PodRecord pod;
    pod.spec.id = string(object, "id", where);
    pod.spec.netns = string(object, "netns", where);
    pod.spec.ifname = string(object, "ifname", where);
    pod.spec.kind = kind(object, "kind", where);
    pod.spec.vhost_server = boolean(object, "vhost_server", where);
    pod.spec.k8s_namespace = string(object, "k8s_namespace", where);
    pod.spec.k8s_name = string(object, "k8s_name", where);
    // Added after version 1 was first written: absent means an operator's pod.
    if (object.contains("owner")) pod.spec.owner = string(object, "owner", where);
    pod.ip = ipv4(object, "ip", where);
    pod.mac = mac(object, "mac", where);
    pod.socket_path = string(object, "socket_path", where);
    return pod;
  }

 private:
  std::string file_;
};

}  // namespace

StateStore::StateStore(std::string dir) : dir_(std::move(dir)) { make_directory(dir_); }

std::optional<SwitchState> StateStore::load() const {
  const std::string path = file();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 && errno == ENOENT) return std::nullopt;
  if (fd.get() < 0) throw_system_error("cannot open state file", path);
  const std::string text = read_all(fd.get(), path, "state file");
  const Decoder decoder(path);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    decoder.fail("it is not valid JSON (byte " + std::to_string(e.byte) + " of " +
                 std::to_string(text.size()) + ")");
  }
  return decoder.state(root);
}

void StateStore::save(const SwitchState& state) const {
  const std::string path = file();
  const std::string tmp = path + ".tmp";
  const std::string text = encode(state).dump(2) + "\n";
  try {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) throw_system_error("cannot create", tmp);
    write_all(fd.get(), text, tmp);
    if (::fsync(fd.get()) != 0) throw_system_error("cannot fsync", tmp);
    if (fd.close() != 0) throw_system_error("cannot close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw_system_error("cannot rename " + tmp + " to", path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Without this the rename may not survive a power loss even though save() returned.
  Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) throw_system_error("cannot open state directory", dir_);
  if (::fsync(dir.get()) != 0) throw_system_error("cannot fsync state directory", dir_);
}

}  // namespace podvs
