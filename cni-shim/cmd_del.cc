// DEL: releases the container's attachment. Idempotent: an unknown container, a second DEL, an
// empty or vanished netns all succeed. A pod with this id that another owner made (podvsctl,
// another network) or with another interface name is not this attachment and is left alone.
// podvsd unreachable is an error (11): the address could not be released, the runtime retries.
#include "cni-shim/device_info.h"
#include "cni-shim/verbs.h"

namespace podvs::cni {

void cmd_del(const Env& env, const NetConf& conf, Log& log) {
  PodvsdClient client = client_for(conf);
  const auto pod = client.get_pod(env.container_id);
  if (!pod) {
    log.line("no attachment: nothing to delete");
  } else if (pod->spec.owner != owner_of(conf) || pod->spec.ifname != env.ifname) {
    log.line("pod " + env.container_id + " belongs to " +
             (pod->spec.owner.empty() ? "an operator" : pod->spec.owner) + " as " +
             pod->spec.ifname + ", not to this attachment: left alone");
  } else {
    client.del_pod(env.container_id);
    log.line("detached, " + pod->ip + " released");
  }
  remove_device_info(conf.device_info_file);
}

}  // namespace podvs::cni
