#include "control/agent/node_translation.h"

#include <algorithm>
#include <cctype>

#include "base/net_types.h"

namespace podvs::agent {
namespace {

const nlohmann::json* child(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> annotation(const nlohmann::json& node, const char* key) {
  const auto* meta = child(node, "metadata");
  const auto* annotations = meta ? child(*meta, "annotations") : nullptr;
  const auto* value = annotations ? child(*annotations, key) : nullptr;
  if (!value || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

struct BackendData {
  uint32_t vni = 0;
  std::string vtep_mac;
};

// flannel's backend-data: {"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}; "" when it is well formed.
std::string parse_backend_data(const std::string& text, BackendData& out) {
  const auto data = nlohmann::json::parse(text, nullptr, false);
  if (data.is_discarded() || !data.is_object())
    return std::string("annotation ") + kBackendData + " is not a JSON object";
  const auto* mac = child(data, "VtepMAC");
  if (!mac || !mac->is_string())
    return std::string("annotation ") + kBackendData + " has no \"VtepMAC\" string";
  const auto parsed = MacAddr::parse(mac->get<std::string>());
  if (!parsed || (parsed->bytes[0] & 1) != 0 || *parsed == MacAddr{})
    return std::string("annotation ") + kBackendData + ": VtepMAC \"" + mac->get<std::string>() +
           "\" is not a unicast MAC address";
  out.vtep_mac = parsed->str();
  if (const auto* vni = child(data, "VNI")) {
    if (!vni->is_number_unsigned() || vni->get<uint64_t>() > 0xffffff)
      return std::string("annotation ") + kBackendData + ": VNI is not a number 0..16777215";
    out.vni = vni->get<uint32_t>();
  }
  return "";
}

}  // namespace

std::string node_name(const nlohmann::json& node) {
  const auto* meta = child(node, "metadata");
  const auto* name = meta ? child(*meta, "name") : nullptr;
  return name && name->is_string() ? name->get<std::string>() : "";
}

std::optional<std::string> node_pod_cidr(const nlohmann::json& node) {
  const auto* spec = child(node, "spec");
  if (!spec) return std::nullopt;
  if (const auto* cidr = child(*spec, "podCIDR");
      cidr && cidr->is_string() && Ipv4Prefix::parse(cidr->get<std::string>()))
    return cidr->get<std::string>();
  if (const auto* cidrs = child(*spec, "podCIDRs"); cidrs && cidrs->is_array())
    for (const auto& cidr : *cidrs)
      if (cidr.is_string() && Ipv4Prefix::parse(cidr.get<std::string>()))
        return cidr.get<std::string>();
  return std::nullopt;
}

NodeTranslation remote_node_from(const nlohmann::json& node, uint32_t our_vni) {
  NodeTranslation out;
  const auto cidr = node_pod_cidr(node);
  if (!cidr) {
    out.problem = "no IPv4 pod CIDR in spec.podCIDR or spec.podCIDRs";
    out.reason = "no_pod_cidr";
    return out;
  }
  const auto type = annotation(node, kBackendType);
  const auto data = annotation(node, kBackendData);
  const auto ip = annotation(node, kPublicIp);
  if (!type || !data || !ip) {
    out.problem = std::string("annotation ") +
                  (!type   ? kBackendType
                   : !data ? kBackendData
                           : kPublicIp) +
                  " is missing (neither podvs nor flannel announced this node's VTEP)";
    out.reason = "no_annotations";
    return out;
  }
  if (*type != "vxlan") {
    out.problem = std::string("annotation ") + kBackendType + " is \"" + *type +
                  "\"; podvs speaks only vxlan";
    out.reason = "not_vxlan";
    return out;
  }
  BackendData backend;
  if (out.problem = parse_backend_data(*data, backend); !out.problem.empty()) {
    out.reason = "bad_backend_data";
    return out;
  }
  if (our_vni != 0 && backend.vni != 0 && backend.vni != our_vni) {
    out.problem = std::string("annotation ") + kBackendData + ": VNI " +
                  std::to_string(backend.vni) + " is not ours (" + std::to_string(our_vni) + ")";
    out.reason = "other_vni";
    return out;
  }
  const auto address = parse_ipv4(*ip);
  if (!address || *address == 0 || (*address >> 28) >= 14) {
    out.problem =
        std::string("annotation ") + kPublicIp + " \"" + *ip + "\" is not a unicast IPv4 address";
    out.reason = "bad_public_ip";
    return out;
  }
  RemoteNodeSpec spec;
  spec.name = node_name(node);
  spec.pod_cidr = *cidr;
  spec.node_ip = ipv4_str(*address);
  spec.vtep_mac = backend.vtep_mac;
  out.node = std::move(spec);
  return out;
}

std::optional<nlohmann::json> flannel_annotation_patch(const nlohmann::json& node,
                                                       const NodeStatus& status) {
  const std::string ip = status.node_ip.substr(0, status.node_ip.find('/'));
  const std::string mac = lower(status.vtep_mac);
  // Compared by meaning, not text: flannel writes the same data with other spacing or case.
  bool same = annotation(node, kBackendType) == std::optional<std::string>("vxlan") &&
              annotation(node, kPublicIp) == std::optional<std::string>(ip);
  if (same) {
    BackendData current;
    const auto data = annotation(node, kBackendData);
    same = data && parse_backend_data(*data, current).empty() && current.vni == status.vni &&
           lower(current.vtep_mac) == mac;
  }
  if (same) return std::nullopt;
  const nlohmann::json backend_data = {{"VNI", status.vni}, {"VtepMAC", mac}};
  return nlohmann::json{
      {"metadata",
       {{"annotations",
         {{kBackendType, "vxlan"}, {kBackendData, backend_data.dump()}, {kPublicIp, ip}}}}}};
}

}  // namespace podvs::agent
