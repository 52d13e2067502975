// Translation between the protobuf messages of podvs.proto and the plain C++ types of
// control_plane.h, used by the gRPC server (requests in, results out) and by its clients (results
// in). Field-by-field copies live here and nowhere else, so a new field is added in one place.
#pragma once

#include <grpcpp/support/status.h>

#include "control/api/control_plane.h"
#include "podvs.pb.h"

namespace podvs {

// The gRPC status for a failed ControlPlane call; the message is passed on unchanged.
grpc::Status to_status(const Error& error);

v1::PortKind to_proto(PortKind kind);
v1::PodSpec to_proto(const PodSpec& spec);
v1::PodInfo to_proto(const PodInfo& pod);
v1::PortStats to_proto(const PortStats& port);
v1::SwitchStats to_proto(const SwitchStats& stats);
v1::NodeStatus to_proto(const NodeStatus& status);
v1::RecentDrop to_proto(const RecentDrop& drop);
v1::RemoteNode to_proto(const RemoteNodeSpec& node);
v1::Service to_proto(const ServiceSpec& service);
v1::AgentReport to_proto(const AgentReport& report);
AgentReport from_proto(const v1::AgentReport& report);

// proto3 enums are open: a peer built from a newer podvs.proto may send a kind this build does not
// know, so these fail with invalid_argument naming the field and the value. An empty ifname becomes
// "eth0" and PORT_KIND_UNSPECIFIED becomes tap, since proto3 cannot carry the struct defaults.
Result<PodSpec> from_proto(const v1::PodSpec& spec);
Result<PodInfo> from_proto(const v1::PodInfo& pod);
Result<PortStats> from_proto(const v1::PortStats& port);
Result<SwitchStats> from_proto(const v1::SwitchStats& stats);
NodeStatus from_proto(const v1::NodeStatus& status);
RecentDrop from_proto(const v1::RecentDrop& drop);
RemoteNodeSpec from_proto(const v1::RemoteNode& node);
// Besides unknown enum values, fails for a port, target_port, node_port or endpoint port above
// 65535 (the proto's uint32 is wider than the model's uint16). UNSPECIFIED protocol and policies
// become tcp and cluster, unset endpoint conditions ready and serving, affinity_timeout_s 0 the
// default (10800).
Result<ServiceSpec> from_proto(const v1::Service& service);

}  // namespace podvs
