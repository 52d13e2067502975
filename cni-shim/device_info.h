// The device-info file of a vhost-user attachment (k8snetworkplumbingwg device-info spec 1.1.0),
// written where the runtime asks (runtimeConfig.CNIDeviceInfoFile) so that Multus can publish it
// in the pod's network-status annotation:
//   {"type": "vhost-user", "version": "1.1.0",
//    "vhost-user": {"mode": "server", "path": "/run/podvs/vhost/<id>/vhost-user.sock"}}
// "mode" is the pod's side: "server" when the pod creates the socket (podvsd connects, the
// default), "client" when podvsd serves it (vhostServer).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace podvs::cni {

nlohmann::json vhost_user_device_info(const std::string& socket_path, bool podvsd_serves);

// Creates the parent directory if needed; the file appears whole or not at all (temp + rename).
// Throws CniError (5, I/O failure).
void write_device_info(const std::string& path, const nlohmann::json& info);

// Missing files are fine (DEL is idempotent).
void remove_device_info(const std::string& path);

}  // namespace podvs::cni
