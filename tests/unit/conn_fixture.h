// Shared pieces of the conntrack and NAT tests: the addresses of a masquerade and a Service
// example, and tuples written the way people read them.
#pragma once

#include <netinet/in.h>
#include <rte_byteorder.h>

#include <string>

#include "tests/unit/packet_builder.h"
#include "vswitch/conn_tuple.h"

namespace podvs::test {

inline constexpr const char* kPodIp = "10.244.1.2";
inline constexpr const char* kNodeIp = "192.168.1.10";
inline constexpr const char* kDnsIp = "8.8.8.8";
inline constexpr const char* kClientIp = "10.244.1.5";
inline constexpr const char* kClusterIp = "10.96.0.10";
inline constexpr const char* kBackendIp = "10.244.2.7";
inline constexpr const char* kRouterIp = "172.16.0.1";

inline rte_be32_t be32(const std::string& addr) { return rte_cpu_to_be_32(ip(addr)); }
inline rte_be16_t be16(uint16_t port) { return rte_cpu_to_be_16(port); }

inline ConnTuple tuple(uint8_t proto, const std::string& src, uint16_t sport,
                       const std::string& dst, uint16_t dport) {
  return {be32(src), be32(dst), be16(sport), be16(dport), proto};
}

// ICMP echo: the identifier in both ports.
inline ConnTuple echo_tuple(const std::string& src, const std::string& dst, uint16_t id) {
  return tuple(IPPROTO_ICMP, src, id, dst, id);
}

inline NatSpec snat_to(const std::string& addr, uint16_t port) {
  return snat_spec(be32(addr), be16(port));
}
inline NatSpec dnat_to(const std::string& addr, uint16_t port) {
  return dnat_spec(be32(addr), be16(port));
}

}  // namespace podvs::test
