// What the pipeline fuzzer sets up, shared by the fuzzer (pipeline_fuzzer.cc) and the program
// that writes its seeds (make_seeds.cc), so that the seeds aim at what the fuzzer has: the
// forwarding table of table_fixture.h (host port 0, pod A on 1, pod B on 2, no uplink) and one
// Service in front of pods A and B.
#pragma once

#include <cstdint>

namespace podvs::fuzz {

// Byte 0 of an input picks the ingress port, modulo kInPorts: host, pod A, pod B (table_fixture.h's
// kHostPort, kPodAPort, kPodBPort) or kUnknownPort, which the table does not know.
inline constexpr uint16_t kInPorts = 4;
inline constexpr uint16_t kUnknownPort = 3;

// table_fixture.h's addresses.
inline constexpr const char* kHostIp = "10.244.0.1";
inline constexpr const char* kPodAIp = "10.244.0.2";
inline constexpr const char* kPodBIp = "10.244.0.3";
inline constexpr const char* kGatewayIp = "169.254.1.1";

// The Service: TCP and UDP port 80 of the ClusterIP to port 8080 of pods A and B.
inline constexpr const char* kClusterIp = "10.96.0.10";
inline constexpr uint16_t kServicePort = 80;
inline constexpr uint16_t kTargetPort = 8080;

}  // namespace podvs::fuzz
