// GC (1.1.0): deletes every pod of this network (owner "cni:<name>") whose (container id,
// ifname) is not in the valid attachments. Pods of other networks and of operators are never
// touched. Keeps going past a failed delete and reports every failure at the end.
#include <algorithm>

#include "cni-shim/verbs.h"

namespace podvs::cni {

void cmd_gc(const NetConf& conf, Log& log) {
  if (!conf.has_valid_attachments)
    throw CniError(Code::invalid_network_config,
                   "GC needs cni.dev/valid-attachments: without the list every pod of network " +
                       conf.name + " would be deleted");
  PodvsdClient client = client_for(conf);
  std::string failures;
  int deleted = 0;
  for (const PodInfo& pod : client.list_pods()) {
    if (pod.spec.owner != owner_of(conf)) continue;
    const GcAttachment a{pod.spec.id, pod.spec.ifname};
    if (std::find(conf.valid_attachments.begin(), conf.valid_attachments.end(), a) !=
        conf.valid_attachments.end())
      continue;
    try {
      client.del_pod(pod.spec.id);
      ++deleted;
      log.line("collected stale attachment " + pod.spec.id + "/" + pod.spec.ifname + " (" + pod.ip +
               ")");
    } catch (const CniError& e) {
      failures += (failures.empty() ? "" : "; ") + pod.spec.id + ": " + e.what();
    }
  }
  if (!failures.empty())
    throw CniError(Code::podvsd_refused, "GC could not delete every stale attachment", failures);
  log.line("GC done: " + std::to_string(deleted) + " stale attachments deleted");
}

}  // namespace podvs::cni
