// Flow enumeration: flow index -> 5-tuple. Flows are the mixed-radix numbers of (source port,
// destination port, source address, destination address), source port fastest, so the first
// 64,512 flows differ only in their UDP/TCP source port and every address stays fixed unless more
// flows are asked for than the ports can give. A switch with anti-spoofing (podvs) therefore sees
// the pod's own source address for every flow count up to ports x dst-port-count.
#pragma once

#include <cstdint>
#include <string>

namespace podvs::pktgen {

struct FlowTuple {
  uint32_t src_ip = 0;  // host byte order
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// The ranges flows may vary in; the counts are upper bounds, used only as far as needed.
struct FlowRanges {
  uint32_t src_ip = 0;  // first source address, host byte order
  uint32_t dst_ip = 0;
  uint16_t src_port = 1024;
  uint16_t dst_port = 5001;
  uint32_t src_ip_count = 1;
  uint32_t dst_ip_count = 1;
  uint32_t dst_port_count = 16;
  // Source ports flows may use; 0: every port from src_port to 65535. 1 keeps the source port
  // fixed, as a server's replies have it, so that flows vary the destination port first.
  uint32_t src_port_count = 0;
};

class FlowSet {
 public:
  // Returns an empty string on success, or a sentence saying which range to widen.
  std::string init(const FlowRanges& ranges, uint32_t flows);

  uint32_t size() const { return flows_; }
  FlowTuple tuple(uint32_t flow) const;
  const FlowRanges& ranges() const { return ranges_; }

  // How many values of each field are in use (for the report).
  uint32_t src_ports() const { return n_sport_; }
  uint32_t dst_ports() const { return n_dport_; }
  uint32_t src_ips() const { return n_sip_; }
  uint32_t dst_ips() const { return n_dip_; }

 private:
  FlowRanges ranges_;
  uint32_t flows_ = 0;
  uint32_t n_sport_ = 1;
  uint32_t n_dport_ = 1;
  uint32_t n_sip_ = 1;
  uint32_t n_dip_ = 1;
};

}  // namespace podvs::pktgen
