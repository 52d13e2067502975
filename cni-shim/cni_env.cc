#include "cni-shim/cni_env.h"

#include <regex>
#include <sstream>
#include <utility>
#include <vector>

#include "cni-shim/cni_error.h"
#include "cni-shim/netconf.h"

namespace podvs::cni {
namespace {

// IFNAMSIZ - 1: Linux interface names.
constexpr size_t kMaxIfname = 15;

CniError bad_env(const std::string& msg) { return CniError(Code::invalid_environment, msg); }

std::optional<Verb> parse_verb(const std::string& command) {
  if (command == "ADD") return Verb::add;
  if (command == "DEL") return Verb::del;
  if (command == "CHECK") return Verb::check;
  if (command == "STATUS") return Verb::status;
  if (command == "GC") return Verb::gc;
  if (command == "VERSION") return Verb::version;
  return std::nullopt;
}

void check_container_id(const std::string& id) {
  // SPEC.md: alphanumeric first, then alphanumerics, '_', '.', '-'. podvsd caps ids at 128.
  static const std::regex kId("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  if (!std::regex_match(id, kId))
    throw bad_env("CNI_CONTAINERID \"" + id +
                  "\" must start with a letter or digit, followed by at most 127 letters, digits, "
                  "'_', '.' or '-'");
}

void check_ifname(const std::string& name) {
  const bool bad_char = name.find_first_of("/: \t\n\r\v\f") != std::string::npos;
  if (name.size() > kMaxIfname || name == "." || name == ".." || bad_char)
    throw bad_env("CNI_IFNAME \"" + name +
                  "\" is not a Linux interface name (at most 15 bytes, no '/', ':' or spaces)");
}

bool parse_bool(const std::string& v) {
  // Go's strconv.ParseBool, which the reference plugins use for IgnoreUnknown.
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE";
}

}  // namespace

CniArgs parse_cni_args(const std::string& text) {
  CniArgs args;
  std::vector<std::pair<std::string, std::string>> pairs;
  bool ignore_unknown = false;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ';');) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw bad_env("CNI_ARGS item \"" + item + "\" is not KEY=VALUE");
    pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    if (pairs.back().first == "IgnoreUnknown") ignore_unknown = parse_bool(pairs.back().second);
  }
  for (const auto& [key, value] : pairs) {
    if (key == "IgnoreUnknown") continue;
    if (key == "K8S_POD_NAMESPACE") {
      args.k8s_namespace = value;
    } else if (key == "K8S_POD_NAME") {
      args.k8s_name = value;
    } else if (key == "K8S_POD_INFRA_CONTAINER_ID" || key == "K8S_POD_UID") {
      // Known Kubernetes keys that podvs has no use for.
    } else if (key == "PODVS_KIND") {
      args.kind = parse_kind(value);
      if (!args.kind)
        throw bad_env("CNI_ARGS PODVS_KIND=" + value + " is not \"tap\" or \"vhost-user\"");
    } else if (!ignore_unknown) {
      throw bad_env("CNI_ARGS key " + key + " is unknown to podvs-cni (add IgnoreUnknown=1 to " +
                    "pass keys meant for other plugins)");
    }
  }
  return args;
}

Env parse_env(const Getenv& getenv) {
  const auto get = [&getenv](const char* name) {
    const char* v = getenv(name);
    return std::string(v ? v : "");
  };
  Env env;
  env.command = get("CNI_COMMAND");
  if (env.command.empty()) throw bad_env("CNI_COMMAND is not set");
  const auto verb = parse_verb(env.command);
  if (!verb)
    throw bad_env("CNI_COMMAND \"" + env.command +
                  "\" is not ADD, DEL, CHECK, STATUS, GC or VERSION");
  env.verb = *verb;
  env.container_id = get("CNI_CONTAINERID");
  env.netns = get("CNI_NETNS");
  env.ifname = get("CNI_IFNAME");
  env.path = get("CNI_PATH");

  const auto require = [](const std::string& value, const char* name) {
    if (value.empty()) throw bad_env(std::string(name) + " is not set");
  };
  switch (env.verb) {
    case Verb::add:
    case Verb::check:
      require(env.netns, "CNI_NETNS");
      [[fallthrough]];
    case Verb::del:
      require(env.container_id, "CNI_CONTAINERID");
      require(env.ifname, "CNI_IFNAME");
      check_container_id(env.container_id);
      check_ifname(env.ifname);
      env.args = parse_cni_args(get("CNI_ARGS"));
      break;
    case Verb::gc:
      require(env.path, "CNI_PATH");
      break;
    case Verb::status:
    case Verb::version:
      break;
  }
  return env;
}

}  // namespace podvs::cni
