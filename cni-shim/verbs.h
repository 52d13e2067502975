// The CNI verbs. Each takes the checked environment and configuration, talks to podvsd and
// either returns what goes on stdout or throws CniError.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "cni-shim/cni_env.h"
#include "cni-shim/cni_error.h"
#include "cni-shim/log.h"
#include "cni-shim/netconf.h"
#include "cni-shim/podvsd_client.h"

namespace podvs::cni {

// How long ADD, DEL, CHECK and GC wait for an unreachable podvsd before failing with 11: long
// enough to ride out a quick restart, short enough that ADD fails within 5 s.
inline constexpr std::chrono::milliseconds kConnectTimeout{4000};
// STATUS must answer within a second, podvsd up, down or hung. A podvsd that is up answers in
// milliseconds; half a second leaves the other half to starting the shim on a loaded node.
inline constexpr std::chrono::milliseconds kStatusTimeout{500};

// The owner podvsd records for the network's pods; GC deletes only pods with this owner.
inline std::string owner_of(const NetConf& conf) { return "cni:" + conf.name; }

// A client bounded by the configuration's timeoutSeconds per call.
PodvsdClient client_for(const NetConf& conf);

nlohmann::json cmd_add(const Env& env, const NetConf& conf, Log& log);
void cmd_del(const Env& env, const NetConf& conf, Log& log);
void cmd_check(const Env& env, const NetConf& conf, Log& log);
void cmd_status(const NetConf& conf, Log& log);
void cmd_gc(const NetConf& conf, Log& log);

}  // namespace podvs::cni
