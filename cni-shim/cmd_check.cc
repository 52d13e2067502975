// CHECK: the attachment is still as ADD left it: podvsd holds the pod for this network and
// interface, podvsd finds its interface, MAC, address and default route in the netns (or the
// vhost-user port up or waiting for the pod), and prevResult lists the same interface and address.
#include "cni-shim/cni_result.h"
#include "cni-shim/verbs.h"

namespace podvs::cni {
namespace {

constexpr std::string_view kWaitingPrefix = "waiting for";

}  // namespace

void cmd_check(const Env& env, const NetConf& conf, Log& log) {
  if (!conf.prev_result.is_object())
    throw CniError(Code::invalid_network_config,
                   "CHECK needs prevResult, the result of the ADD being checked");
  PodvsdClient client = client_for(conf);
  const auto pod = client.get_pod(env.container_id);
  if (!pod)
    throw CniError(Code::check_failed,
                   "container " + env.container_id + " is not attached to podvsd");
  if (pod->spec.owner != owner_of(conf) || pod->spec.ifname != env.ifname)
    throw CniError(Code::check_failed, "pod " + env.container_id + " on podvsd is " +
                                           pod->spec.ifname + " of " + pod->spec.owner + ", not " +
                                           env.ifname + " of " + owner_of(conf));
  // A vhost-user port is up once the pod's virtio-user connects; until then it converges.
  const bool converging =
      pod->spec.kind == PortKind::vhost_user && pod->status.starts_with(kWaitingPrefix);
  if (pod->status != "up" && !converging)
    throw CniError(Code::check_failed, "attachment " + env.ifname + " of container " +
                                           env.container_id + ": " + pod->status);
  const Attachment attachment{
      .ifname = env.ifname,
      .mac = pod->mac,
      .sandbox = env.netns,
      .mtu = pod->mtu,
      .socket_path = pod->socket_path,
      .ip = pod->ip,
      .gateway = pod->gateway_ip,
  };
  if (const std::string diff = compare_with_prev_result(attachment, conf.prev_result);
      !diff.empty())
    throw CniError(Code::check_failed, diff);
  log.line("ok: " + pod->ip + " " + pod->status);
}

}  // namespace podvs::cni
