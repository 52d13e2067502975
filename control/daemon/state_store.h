// What podvsd must remember across a restart (pods, their addresses and ports, the IPAM cursor),
// kept as one JSON file replaced atomically, so a crash leaves either the old or the new state.
//
// Thread safety: none. Only the control thread loads and saves state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/net_types.h"
#include "control/api/control_plane.h"

namespace podvs {

struct PodRecord {
  PodSpec spec;
  Ipv4 ip = 0;
  MacAddr mac;
  std::string socket_path;  // vhost-user only
};

struct SwitchState {
  // The CIDR the addresses below came from. It wins over the configured one at start: it may have
  // been set over the API (SetPodCidr), and the pods' addresses come from it.
  std::string pod_cidr;
  Ipv4 ipam_cursor = 0;
  std::vector<PodRecord> pods;
  // Remote nodes of the overlay (name, CIDR, IP, VTEP MAC, owner).
  std::vector<RemoteNodeSpec> nodes;
};

class StateStore {
 public:
  // Creates `dir` (mode 0700, parents included) if missing; throws std::runtime_error naming the
  // path and the system error on failure.
  explicit StateStore(std::string dir);

  // nullopt when there is no state file yet. Throws std::runtime_error naming the file and what is
  // wrong for a file that cannot be read, is corrupt or has an unknown version.
  std::optional<SwitchState> load() const;
  // Writes <file>.tmp, fsyncs it, renames it over the state file and fsyncs the directory, so the
  // state file always holds either the previous or the new state in full.
  void save(const SwitchState& state) const;

  std::string file() const { return dir_ + "/state.json"; }

 private:
  std::string dir_;
};

}  // namespace podvs
