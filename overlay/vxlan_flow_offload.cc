#include "overlay/vxlan_flow_offload.h"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <stdexcept>

namespace podvs {
namespace {

constexpr uint32_t kMaxVni = (1u << 24) - 1;
// The VNI is the upper 24 bits of the header's second word; the low byte is reserved.
constexpr uint32_t kVniShift = 8;

// RSS on the outer 5-tuple: VXLAN senders derive the outer UDP source port from the inner flow
// (RFC 7348), so this spreads inner flows over queues and keeps each one in order. Level 0 (the
// driver's default, the outer headers on common NICs) is the level most drivers accept.
constexpr uint64_t kRssTypes = RTE_ETH_RSS_NONFRAG_IPV4_UDP;

std::string refusal(const char* step, int rc, const rte_flow_error& error) {
  const char* message = error.message != nullptr ? error.message : rte_strerror(-rc);
  return std::string("rte_flow ") + step + " refused: " + message + " (type " +
         std::to_string(static_cast<int>(error.type)) + ")";
}

}  // namespace

VxlanFlowRule::VxlanFlowRule(const VxlanFlowSpec& spec) : queues_(spec.queues) {
  if (spec.queues.empty())
    throw std::invalid_argument("VXLAN flow rule: queues is empty; name at least one rx queue");
  if (spec.vni > kMaxVni)
    throw std::invalid_argument("VXLAN flow rule: vni " + std::to_string(spec.vni) +
                                " does not fit in 24 bits");

  attr_.ingress = 1;

  ipv4_spec_.hdr.dst_addr = spec.node_ip;
  ipv4_mask_.hdr.dst_addr = RTE_BE32(UINT32_MAX);
  udp_spec_.hdr.dst_port = rte_cpu_to_be_16(spec.udp_port);
  udp_mask_.hdr.dst_port = RTE_BE16(UINT16_MAX);
  vxlan_spec_.hdr.vx_vni = rte_cpu_to_be_32(spec.vni << kVniShift);
  vxlan_mask_.hdr.vx_vni = rte_cpu_to_be_32(kMaxVni << kVniShift);
  // ETH without spec or mask: any Ethernet frame; the items after it say which.
  pattern_[0] = {RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr};
  pattern_[1] = {RTE_FLOW_ITEM_TYPE_IPV4, &ipv4_spec_, nullptr, &ipv4_mask_};
  pattern_[2] = {RTE_FLOW_ITEM_TYPE_UDP, &udp_spec_, nullptr, &udp_mask_};
  pattern_[3] = {RTE_FLOW_ITEM_TYPE_VXLAN, &vxlan_spec_, nullptr, &vxlan_mask_};
  pattern_[4] = {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr};

  mark_.id = spec.mark;
  actions_[0] = {RTE_FLOW_ACTION_TYPE_MARK, &mark_};
  if (queues_.size() == 1) {
    queue_.index = queues_[0];
    actions_[1] = {RTE_FLOW_ACTION_TYPE_QUEUE, &queue_};
  } else {
    rss_.func = RTE_ETH_HASH_FUNCTION_DEFAULT;
    rss_.level = 0;
    rss_.types = kRssTypes;
    rss_.key_len = 0;  // the port's configured key
    rss_.key = nullptr;
    rss_.queue_num = static_cast<uint32_t>(queues_.size());
    rss_.queue = queues_.data();
    actions_[1] = {RTE_FLOW_ACTION_TYPE_RSS, &rss_};
  }
  actions_[2] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
}

OffloadProbe probe_vxlan_offload(uint16_t port_id, const VxlanFlowSpec& spec) {
  std::optional<VxlanFlowRule> rule;
  try {
    rule.emplace(spec);
  } catch (const std::invalid_argument& e) {
    return OffloadProbe{.offloaded = false, .reason = e.what(), .flow = nullptr};
  }
  rte_flow_error error{};
  const int rc =
      rte_flow_validate(port_id, &rule->attr(), rule->pattern(), rule->actions(), &error);
  if (rc != 0)
    return OffloadProbe{
        .offloaded = false, .reason = refusal("validate", rc, error), .flow = nullptr};
  // Validate is not enough: net_tap says yes here and its create fails
  // (docs/dpdk.md#rte_flow-probe).
  error = {};
  rte_flow* flow =
      rte_flow_create(port_id, &rule->attr(), rule->pattern(), rule->actions(), &error);
  if (flow == nullptr)
    return OffloadProbe{
        .offloaded = false, .reason = refusal("create", -rte_errno, error), .flow = nullptr};
  return OffloadProbe{.offloaded = true, .reason = "", .flow = flow};
}

std::optional<std::string> remove_vxlan_offload(uint16_t port_id, rte_flow* flow) {
  rte_flow_error error{};
  const int rc = rte_flow_destroy(port_id, flow, &error);
  if (rc != 0) return refusal("destroy", rc, error);
  return std::nullopt;
}

}  // namespace podvs
