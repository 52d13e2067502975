// The forwarding table most data-path tests use: host port 0 (10.244.0.1), pod A on port 1
// (10.244.0.2) and pod B on port 2 (10.244.0.3), pod CIDR 10.244.0.0/24, gateway 169.254.1.1.
// Pod B's port finishes `pod_b_offloads` itself (an ethdev: none).
#pragma once

#include <rte_byteorder.h>

#include <memory>
#include <utility>
#include <vector>

#include "tests/unit/packet_builder.h"
#include "vswitch/forwarding_table.h"

namespace podvs::test {

inline constexpr const char* kGwMac = "0a:58:a9:fe:01:01";
inline constexpr const char* kHostMac = "0a:58:0a:f4:00:01";
inline constexpr const char* kPodAMac = "0a:58:0a:f4:00:02";
inline constexpr const char* kPodBMac = "0a:58:0a:f4:00:03";
inline constexpr uint16_t kHostPort = 0, kPodAPort = 1, kPodBPort = 2;

inline std::unique_ptr<ForwardingTable> make_table(uint64_t version = 1, uint16_t pod_a_port = 1,
                                                   uint16_t pod_b_port = 2, uint16_t host_port = 0,
                                                   PortOffloads pod_b_offloads = {}) {
  // PortIds are the ring ethdevs' DPDK port ids here: the tests that transmit use real rings.
  std::vector<PortEntry> ports(kDefaultPortCapacity);
  ports[host_port] = PortEntry{
      true, true, false, to_rte(*MacAddr::parse(kHostMac)), 0, PortIo::of_ethdev(host_port)};
  ports[pod_a_port] = PortEntry{true,
                                false,
                                true,
                                to_rte(*MacAddr::parse(kPodAMac)),
                                rte_cpu_to_be_32(ip("10.244.0.2")),
                                PortIo::of_ethdev(pod_a_port)};
  ports[pod_b_port] = PortEntry{true,
                                false,
                                true,
                                to_rte(*MacAddr::parse(kPodBMac)),
                                rte_cpu_to_be_32(ip("10.244.0.3")),
                                PortIo::of_ethdev(pod_b_port)};
  ports[pod_b_port].io.offloads = pod_b_offloads;
  const ForwardingConfig config{*Ipv4Prefix::parse("10.244.0.0/24"), ip("10.244.0.1"),
                                ip("169.254.1.1"), *MacAddr::parse(kGwMac)};
  return std::make_unique<ForwardingTable>(
      version, config, std::move(ports), host_port,
      std::vector<ForwardingTable::PodRoute>{{ip("10.244.0.2"), pod_a_port},
                                             {ip("10.244.0.3"), pod_b_port}});
}

}  // namespace podvs::test
