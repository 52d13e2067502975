// ADD: podvsd creates the pod's port, address and interface (or vhost-user socket); the result
// reports them. A failed ADD leaves nothing: podvsd undoes a failed AddPod itself, and when the
// answer is lost (timeout, podvsd gone) or the device-info file cannot be written, the pod is
// deleted again before the error is returned.
#include <sys/stat.h>

#include "cni-shim/cni_result.h"
#include "cni-shim/device_info.h"
#include "cni-shim/verbs.h"

namespace podvs::cni {
namespace {

PortKind chosen_kind(const Env& env, const NetConf& conf) {
  // The most specific wins: this attachment's runtimeConfig, then the pod's CNI_ARGS, then the
  // network's default.
  if (conf.runtime_kind) return *conf.runtime_kind;
  if (env.args.kind) return *env.args.kind;
  return conf.kind;
}

// Why ADD was refused for an id podvsd already holds, in terms the operator can act on.
std::string already_attached_message(const Env& env, const NetConf& conf, PodvsdClient& client) {
  const auto pod = client.get_pod(env.container_id);
  if (!pod) return "container " + env.container_id + " is already attached";
  if (pod->spec.owner != owner_of(conf))
    return "pod id " + env.container_id + " is already taken on podvsd by " +
           (pod->spec.owner.empty() ? "an operator (podvsctl)" : pod->spec.owner);
  if (pod->spec.ifname != env.ifname)
    return "container " + env.container_id + " is already attached to network " + conf.name +
           " as " + pod->spec.ifname + "; podvs gives a container one interface per network, so " +
           env.ifname + " cannot be added";
  return "container " + env.container_id + " is already attached to network " + conf.name + " as " +
         env.ifname + " (" + pod->ip + "); DEL it before adding it again";
}

void undo(const std::string& id, const NetConf& conf, Log& log) {
  try {
    // No wait for a connection: podvsd was reachable a moment ago or the pod cannot exist.
    PodvsdClient(conf.socket, std::chrono::milliseconds(0), kConnectTimeout).del_pod(id);
    log.line("undid the partial attachment of " + id);
  } catch (const CniError& e) {
    log.line("could not undo the attachment of " + id + " (the runtime's DEL will): " + e.what());
  }
}

}  // namespace

nlohmann::json cmd_add(const Env& env, const NetConf& conf, Log& log) {
  const PortKind kind = chosen_kind(env, conf);
  struct stat st {};
  if (kind == PortKind::tap && ::stat(env.netns.c_str(), &st) != 0)
    throw CniError(
        Code::invalid_environment,
        "CNI_NETNS " + env.netns + " does not exist: the pod's network namespace is gone");

  const PodSpec spec{
      .id = env.container_id,
      .netns = env.netns,
      .ifname = env.ifname,
      .kind = kind,
      .vhost_server = conf.vhost_server,
      .k8s_namespace = env.args.k8s_namespace,
      .k8s_name = env.args.k8s_name,
      .owner = owner_of(conf),
      .queues = kind == PortKind::vhost_user ? conf.queues : uint16_t{1},
  };
  PodvsdClient client = client_for(conf);
  PodInfo pod;
  try {
    pod = client.add_pod(spec);
  } catch (const CniError& e) {
    if (e.code() == Code::already_attached)
      throw CniError(Code::already_attached, already_attached_message(env, conf, client));
    if (e.code() == Code::try_again_later && client.connected()) undo(env.container_id, conf, log);
    throw;
  }

  if (kind == PortKind::vhost_user && !conf.device_info_file.empty()) {
    try {
      write_device_info(conf.device_info_file,
                        vhost_user_device_info(pod.socket_path, pod.spec.vhost_server));
    } catch (const CniError&) {
      undo(env.container_id, conf, log);
      throw;
    }
  }
  log.line("attached " + pod.ip + " as " + env.ifname + " (" + port_kind_name(kind) + ")");
  const Attachment attachment{
      .ifname = env.ifname,
      .mac = pod.mac,
      .sandbox = env.netns,
      .mtu = pod.mtu,
      .socket_path = pod.socket_path,
      .ip = pod.ip,
      .gateway = pod.gateway_ip,
  };
  return shape_result(attachment, conf.cni_version, conf.prev_result, conf.dns);
}

}  // namespace podvs::cni
