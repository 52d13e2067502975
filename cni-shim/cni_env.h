// The CNI_* environment of one invocation, checked for the verb it names (SPEC.md "Parameters"),
// and CNI_ARGS with the keys podvs-cni understands.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "control/api/control_plane.h"

namespace podvs::cni {

enum class Verb { add, del, check, status, gc, version };

// From CNI_ARGS ("K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;IgnoreUnknown=1").
struct CniArgs {
  std::string k8s_namespace;
  std::string k8s_name;
  std::optional<PortKind> kind;  // PODVS_KIND
};

struct Env {
  Verb verb = Verb::version;
  std::string command;  // as given, for logs
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string path;
  CniArgs args;
};

using Getenv = std::function<const char*(const char*)>;

// Throws CniError (4, invalid environment) when CNI_COMMAND is missing or unknown, when a
// variable the verb requires is missing or malformed, or CNI_ARGS has a malformed pair or an
// unknown key without IgnoreUnknown.
Env parse_env(const Getenv& getenv);

// CNI_ARGS alone; throws like parse_env.
CniArgs parse_cni_args(const std::string& text);

}  // namespace podvs::cni
