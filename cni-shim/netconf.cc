#include "cni-shim/netconf.h"

#include <algorithm>
#include <cstdint>
#include <regex>

#include "cni-shim/cni_error.h"

namespace podvs::cni {
namespace {

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

using json = nlohmann::json;

// A key of the wrong JSON type is a decoding failure (6), as when unmarshalling fails.
const json* member(const json& j, const char* key, json::value_t type, const char* type_name) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  const bool number_ok = type == json::value_t::number_float && it->is_number();
  if (it->type() != type && !number_ok)
    throw CniError(Code::decoding_failure, std::string("network configuration key \"") + key +
                                               "\" must be " + type_name + ", not " + it->dump());
  return &*it;
}

std::string string_member(const json& j, const char* key) {
  const json* v = member(j, key, json::value_t::string, "a string");
  return v ? v->get<std::string>() : "";
}

void parse_attachments(const json& j, const char* key, NetConf& conf) {
  const json* list = member(j, key, json::value_t::array, "a list");
  if (!list) return;
  conf.has_valid_attachments = true;
  for (const json& entry : *list) {
    if (!entry.is_object())
      throw CniError(Code::decoding_failure, std::string(key) + " entries must be objects with " +
                                                 "containerID and ifname, not " + entry.dump());
    GcAttachment a{string_member(entry, "containerID"), string_member(entry, "ifname")};
    if (a.container_id.empty())
      throw CniError(Code::decoding_failure,
                     std::string(key) + " entry " + entry.dump() + " has no containerID");
    if (std::find(conf.valid_attachments.begin(), conf.valid_attachments.end(), a) ==
        conf.valid_attachments.end())
      conf.valid_attachments.push_back(std::move(a));
  }
}

void parse_runtime_config(const json& j, NetConf& conf) {
  const json* rc = member(j, "runtimeConfig", json::value_t::object, "an object");
  if (!rc) return;
  conf.device_info_file = string_member(*rc, "CNIDeviceInfoFile");
  if (const std::string kind = string_member(*rc, "podvsKind"); !kind.empty()) {
    conf.runtime_kind = parse_kind(kind);
    if (!conf.runtime_kind)
      throw CniError(Code::invalid_network_config,
                     "runtimeConfig.podvsKind \"" + kind + "\" is not \"tap\" or \"vhost-user\"");
  }
}

void parse_version_key(const json& j, NetConf& conf) {
  if (!j.contains("cniVersion"))
    throw CniError(Code::invalid_network_config,
                   "the network configuration has no cniVersion; podvs-cni supports " +
                       version_info()["supportedVersions"].dump());
  conf.cni_version = string_member(j, "cniVersion");
  const auto version = parse_version(conf.cni_version);
  if (!version)
    throw CniError(Code::decoding_failure,
                   "cniVersion \"" + conf.cni_version + "\" is not a version such as 1.0.0");
  if (!is_supported(conf.cni_version))
    throw CniError(Code::incompatible_version, "cniVersion " + conf.cni_version +
                                                   " is not supported; podvs-cni supports " +
                                                   version_info()["supportedVersions"].dump());
  conf.version = *version;
}

}  // namespace

std::optional<PortKind> parse_kind(std::string_view text) {
  if (text == port_kind_name(PortKind::tap)) return PortKind::tap;
  if (text == port_kind_name(PortKind::vhost_user)) return PortKind::vhost_user;
  return std::nullopt;
}

NetConf parse_netconf(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw CniError(Code::decoding_failure,
                   "the network configuration on stdin is not JSON: " + std::string(e.what()));
  }
  if (!j.is_object())
    throw CniError(Code::decoding_failure, "the network configuration must be a JSON object");

  NetConf conf;
  parse_version_key(j, conf);

  conf.name = string_member(j, "name");
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]*");
  if (!std::regex_match(conf.name, kName))
    throw CniError(Code::invalid_network_config,
                   "network name \"" + conf.name +
                       "\" must start with a letter or digit, followed by letters, digits, "
                       "'_', '.' or '-'");
  conf.type = string_member(j, "type");
  if (conf.type.empty())
    throw CniError(Code::invalid_network_config, "the network configuration has no type");

  if (const std::string socket = string_member(j, "socket"); !socket.empty()) conf.socket = socket;
  if (conf.socket.size() > kMaxSocketPath)
    throw CniError(
        Code::invalid_network_config,
        "socket \"" + conf.socket + "\" is longer than 107 bytes, the unix socket limit");
  if (const std::string kind = string_member(j, "kind"); !kind.empty()) {
    const auto parsed = parse_kind(kind);
    if (!parsed)
      throw CniError(Code::invalid_network_config,
                     "kind \"" + kind + "\" is not \"tap\" or \"vhost-user\"");
    conf.kind = *parsed;
  }
  if (const json* v = member(j, "vhostServer", json::value_t::boolean, "true or false"))
    conf.vhost_server = v->get<bool>();
  if (const json* v = member(j, "queues", json::value_t::number_float, "a number")) {
    // 1 to kMaxPodQueues, a whole number: podvsd's own rule, said before any pod is touched.
    const double queues = v->get<double>();
    if (!(queues >= 1 && queues <= kMaxPodQueues && queues == static_cast<uint16_t>(queues)))
      throw CniError(Code::invalid_network_config,
                     "queues " + v->dump() + " must be a whole number from 1 to " +
                         std::to_string(kMaxPodQueues) + " (queue pairs of a vhost-user pod)");
    conf.queues = static_cast<uint16_t>(queues);
  }
  if (const json* v = member(j, "timeoutSeconds", json::value_t::number_float, "a number")) {
    conf.timeout_seconds = v->get<double>();
    if (!(conf.timeout_seconds > 0 && conf.timeout_seconds <= kMaxTimeoutSeconds))
      throw CniError(Code::invalid_network_config,
                     "timeoutSeconds " + v->dump() + " must be above 0 and at most 300");
  }
  conf.log_file = string_member(j, "logFile");

  // Addresses come from podvsd's pod CIDR; an IPAM plugin would hand out addresses podvsd
  // cannot route.
  if (const json* ipam = member(j, "ipam", json::value_t::object, "an object");
      ipam && !ipam->empty())
    throw CniError(Code::unsupported_field,
                   "unsupported field \"ipam\": " + ipam->dump() +
                       ": podvsd allocates pod addresses from its pod CIDR; remove the ipam "
                       "section");
  if (const json* dns = member(j, "dns", json::value_t::object, "an object")) conf.dns = *dns;
  if (const json* prev = member(j, "prevResult", json::value_t::object, "an object"))
    conf.prev_result = *prev;
  parse_runtime_config(j, conf);
  parse_attachments(j, "cni.dev/valid-attachments", conf);
  parse_attachments(j, "cni.dev/attachments", conf);
  return conf;
}

std::string error_version(std::string_view text) {
  try {
    const json j = json::parse(text);
    if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string() &&
        is_supported(j["cniVersion"].get<std::string>()))
      return j["cniVersion"].get<std::string>();
  } catch (const json::exception&) {
  }
  return std::string(kLatestVersion);
}

}  // namespace podvs::cni
