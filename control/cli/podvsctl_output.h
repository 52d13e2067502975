// What podvsctl prints: JSON for --json (field names are those of podvs.proto, for scripts) and
// aligned tables or key/value lines for people. Pure functions of control_plane.h types.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>
#include <vector>

#include "control/api/control_plane.h"

namespace podvs {

// nlohmann::json's conversion hooks, found by ADL: `nlohmann::json j = pod;`. Drops become an
// object from reason to packets so that `jq .drops.ttl_exceeded` works.
void to_json(nlohmann::json& j, const PodSpec& spec);
void to_json(nlohmann::json& j, const PodInfo& pod);
void to_json(nlohmann::json& j, const PortStats& port);
void to_json(nlohmann::json& j, const WorkerStats& worker);
void to_json(nlohmann::json& j, const SwitchStats& stats);
void to_json(nlohmann::json& j, const NodeStatus& status);
void to_json(nlohmann::json& j, const AgentSeen& agent);
// "connected (report 3s ago), synced, last sync 2026-12-02T08:00:01Z, ..." (stale after 30 s).
std::string agent_summary(const AgentSeen& agent);
void to_json(nlohmann::json& j, const RemoteNodeSpec& node);
void to_json(nlohmann::json& j, const RecentDrop& drop);
void to_json(nlohmann::json& j, const ServiceSpec& service);

void print_pod(std::ostream& out, const PodInfo& pod);
void print_pod_table(std::ostream& out, const std::vector<PodInfo>& pods);
void print_port_table(std::ostream& out, const std::vector<PortStats>& ports);
void print_node_table(std::ostream& out, const std::vector<RemoteNodeSpec>& nodes);
// One row per Service; PORTS in the syntax of `service add --port`.
void print_service_table(std::ostream& out, const std::vector<ServiceSpec>& services);
// The annotations flannel's VXLAN backend publishes for a node, for this node (flannel peers
// program us from them).
std::string flannel_annotations(const NodeStatus& status);
void print_stats(std::ostream& out, const SwitchStats& stats);
void print_status(std::ostream& out, const NodeStatus& status);
// One screen of `podvsctl top`: rates between two snapshots taken `seconds` apart, like
// `ovs-appctl dpif-netdev/pmd-perf-show` or `vppctl show runtime`.
void print_top(std::ostream& out, const SwitchStats& before, const SwitchStats& now,
               double seconds);
// Drops by pod (port) and reason, non-zero only.
void print_drops_table(std::ostream& out, const std::vector<PortStats>& ports);
// Flight-recorder entries, one line each with the frame's headers decoded.
void print_recent_drops(std::ostream& out, const std::vector<RecentDrop>& drops);
// "0a:58:.. > 0a:58:.. IPv4 10.244.0.2:40000 > 10.244.0.3:9 udp" from a frame's first bytes.
std::string describe_frame(const std::string& bytes);

}  // namespace podvs
