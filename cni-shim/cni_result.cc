#include "cni-shim/cni_result.h"

namespace podvs::cni {

using json = nlohmann::json;

json shape_result(const Attachment& a, const std::string& cni_version, const json& prev_result,
                  const json& dns) {
  const Version version = parse_version(cni_version).value_or(Version{});
  json result = prev_result.is_object() ? prev_result : json::object();
  result["cniVersion"] = cni_version;
  for (const char* key : {"interfaces", "ips", "routes"})
    if (!result.contains(key) || !result[key].is_array()) result[key] = json::array();

  json iface = {{"name", a.ifname}, {"mac", a.mac}};
  if (!a.sandbox.empty()) iface["sandbox"] = a.sandbox;
  if (version >= kStatusGcSince) {
    if (a.mtu != 0) iface["mtu"] = a.mtu;
    if (!a.socket_path.empty()) iface["socketPath"] = a.socket_path;
  }
  const int index = static_cast<int>(result["interfaces"].size());
  result["interfaces"].push_back(iface);

  json ip = {{"address", a.ip + "/32"}, {"gateway", a.gateway}, {"interface", index}};
  if (version < kNoIpVersionSince) ip["version"] = "4";
  result["ips"].push_back(ip);

  if (version >= kStatusGcSince)
    result["routes"].push_back({{"dst", a.gateway + "/32"}, {"scope", kRouteScopeLink}});
  result["routes"].push_back({{"dst", "0.0.0.0/0"}, {"gw", a.gateway}});

  if (!result.contains("dns") && dns.is_object() && !dns.empty()) result["dns"] = dns;
  return result;
}

std::string compare_with_prev_result(const Attachment& a, const json& prev_result) {
  const json& ifaces = prev_result.contains("interfaces") ? prev_result["interfaces"] : json();
  int index = -1;
  if (ifaces.is_array()) {
    for (size_t i = 0; i < ifaces.size(); ++i) {
      const json& f = ifaces[i];
      if (f.is_object() && f.value("name", "") == a.ifname && f.value("sandbox", "") == a.sandbox)
        index = static_cast<int>(i);
    }
  }
  if (index < 0) return "prevResult lists no interface " + a.ifname + " in sandbox " + a.sandbox;
  if (const std::string mac = ifaces[index].value("mac", ""); mac != a.mac)
    return "interface " + a.ifname + " has MAC " + a.mac + " but prevResult says " + mac;
  const std::string address = a.ip + "/32";
  const json& ips = prev_result.contains("ips") ? prev_result["ips"] : json();
  if (ips.is_array())
    for (const json& ip : ips)
      if (ip.is_object() && ip.value("address", "") == address &&
          ip.value("interface", -1) == index)
        return "";
  return "prevResult does not list address " + address + " on interface " + a.ifname;
}

}  // namespace podvs::cni
