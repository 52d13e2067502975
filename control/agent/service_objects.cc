#include "control/agent/service_objects.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <initializer_list>

#include "base/net_types.h"
#include "control/api/service_spec.h"

namespace podvs::agent {

using nlohmann::json;

namespace {

const json* child(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

namespace {

// `to[key] = from[key]` for each key `from` has.
void copy_members(const json& from, json& to, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (const auto it = from.find(key); it != from.end()) to[key] = *it;
}

// Name, namespace, labels (the service-name and proxy-name labels are read) and, of the
// annotations, the last-change trigger time (the programming latency starts there).
json slim_metadata(const json& meta) {
  if (!meta.is_object()) return meta;
  json out = json::object();
  copy_members(meta, out, {"name", "namespace", "labels"});
  if (const auto annotations = meta.find("annotations");
      annotations != meta.end() && annotations->is_object())
    if (const auto trigger = annotations->find(kLastChangeTriggerTime);
        trigger != annotations->end())
      out["annotations"] = {{kLastChangeTriggerTime, *trigger}};
  return out;
}

}  // namespace

json slim_service(const json& service) {
  if (!service.is_object()) return service;
  json out = json::object();
  copy_members(service, out, {"spec"});
  if (const auto meta = service.find("metadata"); meta != service.end())
    out["metadata"] = slim_metadata(*meta);
  if (const auto status = service.find("status"); status != service.end()) {
    out["status"] = json::object();
    if (status->is_object()) copy_members(*status, out["status"], {"loadBalancer"});
  }
  return out;
}

json slim_slice(const json& slice) {
  if (!slice.is_object()) return slice;
  json out = json::object();
  copy_members(slice, out, {"addressType", "ports"});
  if (const auto meta = slice.find("metadata"); meta != slice.end())
    out["metadata"] = slim_metadata(*meta);
  if (const auto endpoints = slice.find("endpoints"); endpoints != slice.end()) {
    if (!endpoints->is_array()) {
      out["endpoints"] = *endpoints;
    } else {
      json& list = out["endpoints"] = json::array();
      for (const json& e : *endpoints) {
        if (!e.is_object()) {
          list.push_back(e);
          continue;
        }
        json kept = json::object();
        copy_members(e, kept, {"addresses", "conditions"});
        list.push_back(std::move(kept));
      }
    }
  }
  return out;
}

std::string slice_service_key(const json& slice) {
  const json* meta = child(slice, "metadata");
  if (!meta || !meta->is_object()) return "";
  const json* ns = child(*meta, "namespace");
  const json* labels = child(*meta, "labels");
  const json* name = labels && labels->is_object() ? child(*labels, kServiceNameLabel) : nullptr;
  if (!ns || !ns->is_string() || !name || !name->is_string() || name->get<std::string>().empty())
    return "";
  return service_key(ns->get<std::string>(), name->get<std::string>());
}

std::optional<std::chrono::system_clock::time_point> slice_trigger_time(const json& slice) {
  const json* meta = child(slice, "metadata");
  const json* annotations = meta && meta->is_object() ? child(*meta, "annotations") : nullptr;
  const json* value = annotations && annotations->is_object()
                          ? child(*annotations, kLastChangeTriggerTime)
                          : nullptr;
  if (!value || !value->is_string()) return std::nullopt;
  return parse_rfc3339(value->get<std::string>());
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  constexpr int kFirstYear = 1970, kLastYear = 2200;
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: it ends in 2262. Kubernetes writes the present.
  if (tm.tm_year < kFirstYear || tm.tm_year > kLastYear || tm.tm_mon < 1 || tm.tm_mon > 12 ||
      tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t seconds = timegm(&tm);
  size_t i = 19;
  std::chrono::nanoseconds fraction{0};
  if (i < text.size() && text[i] == '.') {
    int64_t scale = 100000000;
    size_t digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits)
      if (scale > 0) {
        fraction += std::chrono::nanoseconds((text[i] - '0') * scale);
        scale /= 10;
      }
    if (digits == 0) return std::nullopt;
  }
  std::chrono::seconds offset{0};
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') && text[i + 3] == ':') {
    int hours = 0, minutes = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &hours, &minutes) != 2 || hours > 23 ||
        minutes > 59)
      return std::nullopt;
    offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    if (text[i] == '+') offset = -offset;  // 10:00+02:00 is 08:00 UTC
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds) + offset +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

std::vector<std::string> external_ips_of(const json& service) {
  std::vector<std::string> ips;
  const auto add = [&](const json& ip) {
    if (ip.is_string() && parse_ipv4(ip.get<std::string>()) &&
        std::find(ips.begin(), ips.end(), ip.get<std::string>()) == ips.end())
      ips.push_back(ip.get<std::string>());
  };
  const json* spec = child(service, "spec");
  const json* external = spec ? child(*spec, "externalIPs") : nullptr;
  if (external && external->is_array())
    for (const json& ip : *external) add(ip);
  const json* status = child(service, "status");
  const json* lb = status ? child(*status, "loadBalancer") : nullptr;
  const json* ingress = lb ? child(*lb, "ingress") : nullptr;
  if (ingress && ingress->is_array())
    for (const json& entry : *ingress)
      if (const json* ip = child(entry, "ip")) add(*ip);
  return ips;
}

}  // namespace podvs::agent
