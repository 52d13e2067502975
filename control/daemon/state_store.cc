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
#include "control/daemon/json_file_decoder.h"

namespace podvs {
namespace {

// Ordered so the file reads version first and each pod in the order of PodSpec.
using json = JsonFileDecoder::json;

// Bump when the layout changes incompatibly; load() refuses versions it does not know rather than
// guessing and re-creating ports from misread state.
constexpr int kFormatVersion = 1;

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
                    {"queues", pod.spec.queues},
                    {"ip", ipv4_str(pod.ip)},
                    {"mac", pod.mac.str()},
                    {"socket_path", pod.socket_path}});
  }
  json nodes = json::array();
  for (const RemoteNodeSpec& node : state.nodes)
    nodes.push_back({{"name", node.name},
                     {"pod_cidr", node.pod_cidr},
                     {"node_ip", node.node_ip},
                     {"vtep_mac", node.vtep_mac},
                     {"owner", node.owner}});
  return {{"version", kFormatVersion},
          {"pod_cidr", state.pod_cidr},
          {"ipam_cursor", ipv4_str(state.ipam_cursor)},
          {"pods", std::move(pods)},
          {"nodes", std::move(nodes)}};
}

// Reads the JSON back, naming the file and the offending field in every error.
class Decoder {
 public:
  explicit Decoder(const std::string& path)
      : d_("state file", path, "remove the file (podvsd then starts with no pods)") {}

  SwitchState state(const std::string& text) const {
    const json root = d_.parse(text, kFormatVersion);
    SwitchState state;
    state.pod_cidr = d_.string(root, "pod_cidr", "the top level");
    state.ipam_cursor = d_.ipv4(root, "ipam_cursor", "the top level");
    const json& pods = d_.array(root, "pods", "the top level");
    for (size_t i = 0; i < pods.size(); ++i)
      state.pods.push_back(pod(pods[i], "pods[" + std::to_string(i) + "]"));
    // Added after version 1 was first written: absent means no remote nodes.
    if (root.contains("nodes")) {
      const json& nodes = d_.array(root, "nodes", "the top level");
      for (size_t i = 0; i < nodes.size(); ++i) {
        const std::string where = "nodes[" + std::to_string(i) + "]";
        RemoteNodeSpec node;
        node.name = d_.string(nodes[i], "name", where);
        node.pod_cidr = d_.string(nodes[i], "pod_cidr", where);
        node.node_ip = d_.string(nodes[i], "node_ip", where);
        node.vtep_mac = d_.string(nodes[i], "vtep_mac", where);
        // Added later still: absent means an operator's node.
        if (nodes[i].contains("owner")) node.owner = d_.string(nodes[i], "owner", where);
        state.nodes.push_back(std::move(node));
      }
    }
    return state;
  }

 private:
  PortKind kind(const json& object, const char* key, const std::string& where) const {
    const std::string text = d_.string(object, key, where);
    for (PortKind kind : {PortKind::tap, PortKind::vhost_user, PortKind::host})
      if (text == port_kind_name(kind)) return kind;
    d_.fail(where + "." + key + " \"" + text + "\" is not one of tap, vhost-user, host");
  }

  PodRecord pod(const json& object, const std::string& where) const {
    PodRecord pod;
    pod.spec.id = d_.string(object, "id", where);
    pod.spec.netns = d_.string(object, "netns", where);
    pod.spec.ifname = d_.string(object, "ifname", where);
    pod.spec.kind = kind(object, "kind", where);
    pod.spec.vhost_server = d_.boolean(object, "vhost_server", where);
    pod.spec.k8s_namespace = d_.string(object, "k8s_namespace", where);
    pod.spec.k8s_name = d_.string(object, "k8s_name", where);
    // Added after version 1 was first written: absent means an operator's pod.
    if (object.contains("owner")) pod.spec.owner = d_.string(object, "owner", where);
    // Also later: absent means one queue pair. A number the API would refuse is refused here too.
    if (object.contains("queues")) {
      pod.spec.queues = static_cast<uint16_t>(d_.number(object, "queues", where, kMaxPodQueues));
      if (pod.spec.queues == 0) d_.fail(where + ".queues is 0: a pod has at least one queue pair");
    }
    pod.ip = d_.ipv4(object, "ip", where);
    pod.mac = d_.mac(object, "mac", where);
    pod.socket_path = d_.string(object, "socket_path", where);
    return pod;
  }

  JsonFileDecoder d_;
};

}  // namespace

StateStore::StateStore(std::string dir) : dir_(std::move(dir)) {
  make_directories(dir_, "state directory");
}

std::optional<SwitchState> StateStore::load() const {
  const std::string path = file();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 && errno == ENOENT) return std::nullopt;
  if (fd.get() < 0) throw_system_error("cannot open state file", path);
  const std::string text = read_all(fd.get(), path, "state file");
  return Decoder(path).state(text);
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
