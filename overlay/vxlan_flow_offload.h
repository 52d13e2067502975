// Hardware steering of the node's VXLAN traffic with rte_flow: on a NIC that accepts the rule,
// packets for our node IP, UDP port and VNI arrive MARKed on the chosen queues (vxlan_marked tells
// a marked packet; the workers do not use the mark yet and check every packet in software). No
// port on our machines accepts rte_flow rules (docs/dpdk.md#rte_flow-probe), so the software path
// is the reference and the offload is probed per port by creating the rule: some drivers'
// validate says yes and their create then fails.
//
// Thread safety: the rule builder is plain data. probe/remove call rte_flow on a port and belong
// to the control thread, which owns port configuration; workers only test the mark on mbufs.
#pragma once

#include <rte_flow.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podvs {

struct VxlanFlowSpec {
  rte_be32_t node_ip = 0;        // outer destination: this node's uplink address, network order
  uint16_t udp_port = 4789;      // outer UDP destination port, host order (IANA's VXLAN port)
  uint32_t vni = 0;              // 24 bits
  uint32_t mark = 0;             // MARK id the NIC writes to mbuf->hash.fdir.hi
  std::vector<uint16_t> queues;  // one: QUEUE action; several: RSS over them
};

// The rule for one spec: attributes, pattern ETH / IPV4 dst=node_ip / UDP dst=udp_port /
// VXLAN vni / END and actions MARK / QUEUE or RSS / END. The items and actions point into this
// object, so it can be neither copied nor moved.
class VxlanFlowRule {
 public:
  // Throws std::invalid_argument naming the field when the spec cannot be expressed (no queue,
  // VNI wider than 24 bits).
  explicit VxlanFlowRule(const VxlanFlowSpec& spec);
  VxlanFlowRule(const VxlanFlowRule&) = delete;
  VxlanFlowRule& operator=(const VxlanFlowRule&) = delete;

  const rte_flow_attr& attr() const { return attr_; }
  const rte_flow_item* pattern() const { return pattern_.data(); }
  const rte_flow_action* actions() const { return actions_.data(); }

 private:
  rte_flow_attr attr_{};
  rte_flow_item_ipv4 ipv4_spec_{}, ipv4_mask_{};
  rte_flow_item_udp udp_spec_{}, udp_mask_{};
  rte_flow_item_vxlan vxlan_spec_{}, vxlan_mask_{};
  std::array<rte_flow_item, 5> pattern_{};
  rte_flow_action_mark mark_{};
  rte_flow_action_queue queue_{};
  std::vector<uint16_t> queues_;
  rte_flow_action_rss rss_{};
  std::array<rte_flow_action, 3> actions_{};
};

struct OffloadProbe {
  bool offloaded = false;
  std::string reason;        // why not, when !offloaded: a sentence for the log
  rte_flow* flow = nullptr;  // the installed rule, when offloaded
};

// Validates and creates the rule on `port_id`. Never throws: a spec the builder rejects, a
// validate refusal and a create refusal all come back as offloaded=false with the reason (for
// the drivers: "rte_flow create refused: <message> (type N)").
OffloadProbe probe_vxlan_offload(uint16_t port_id, const VxlanFlowSpec& spec);

// Destroys a rule made by probe_vxlan_offload. Nullopt on success, else why it failed.
std::optional<std::string> remove_vxlan_offload(uint16_t port_id, rte_flow* flow);

// True when the NIC matched the rule whose MARK id is `mark` on this packet.
inline bool vxlan_marked(const rte_mbuf* m, uint32_t mark) {
  return (m->ol_flags & RTE_MBUF_F_RX_FDIR_ID) != 0 && m->hash.fdir.hi == mark;
}

}  // namespace podvs
