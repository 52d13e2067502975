// podvs-cni: the CNI plugin of podvs, run by the container runtime with CNI_* in the environment
// and the network configuration on stdin. A thin client of podvsd's gRPC API: podvsd makes the
// ports, addresses and interfaces; this program checks its input, asks podvsd and shapes the
// answer for the runtime's cniVersion.
//
// stdout carries the result (ADD), the version info (VERSION) or the spec's error object, and
// nothing else; logs go to stderr or the network's logFile. Exit status 0 on success, 1 on error.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "cni-shim/cni_error.h"
#include "cni-shim/verbs.h"

namespace podvs::cni {

PodvsdClient client_for(const NetConf& conf) {
  const auto call_timeout =
      std::chrono::milliseconds(static_cast<long>(conf.timeout_seconds * 1000));
  return PodvsdClient(conf.socket, std::min(kConnectTimeout, call_timeout), call_timeout);
}

namespace {

// Verbs that appeared after a cniVersion the configuration may name.
void check_verb_allowed(const Env& env, const NetConf& conf) {
  const auto refuse = [&](const char* since) {
    throw CniError(Code::incompatible_version, "CNI_COMMAND " + env.command + " needs cniVersion " +
                                                   since + " or later; the configuration says " +
                                                   conf.cni_version);
  };
  if (env.verb == Verb::check && conf.version < kCheckSince) refuse("0.4.0");
  if ((env.verb == Verb::status || env.verb == Verb::gc) && conf.version < kStatusGcSince)
    refuse("1.1.0");
}

std::string context_of(const Env& env) {
  std::string context = env.command;
  if (!env.container_id.empty()) context += " " + env.container_id;
  if (!env.ifname.empty()) context += "/" + env.ifname;
  return context;
}

int run(const std::string& input, Log& log) {
  const Env env = parse_env([](const char* name) { return std::getenv(name); });
  log.set_context(context_of(env));
  if (env.verb == Verb::version) {
    std::cout << version_info().dump() << std::endl;
    return EXIT_SUCCESS;
  }
  const NetConf conf = parse_netconf(input);
  log.open(conf.log_file);
  check_verb_allowed(env, conf);
  const auto started = std::chrono::steady_clock::now();
  switch (env.verb) {
    case Verb::add:
      std::cout << cmd_add(env, conf, log).dump() << std::endl;
      break;
    case Verb::del:
      cmd_del(env, conf, log);
      break;
    case Verb::check:
      cmd_check(env, conf, log);
      break;
    case Verb::status:
      cmd_status(conf, log);
      break;
    case Verb::gc:
      cmd_gc(conf, log);
      break;
    case Verb::version:
      break;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  log.line("done in " + std::to_string(ms) + " ms");
  return EXIT_SUCCESS;
}

}  // namespace
}  // namespace podvs::cni

int main() {
  using namespace podvs::cni;
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  Log log;
  try {
    return run(input, log);
  } catch (const CniError& e) {
    log.line("error " + std::to_string(static_cast<int>(e.code())) + ": " + e.what());
    std::cout << error_json(e, error_version(input)).dump() << std::endl;
  } catch (const nlohmann::json::exception& e) {
    // A prevResult or attachment entry of an unexpected shape.
    const CniError error(Code::decoding_failure,
                         std::string("cannot decode the network configuration: ") + e.what());
    log.line(error.what());
    std::cout << error_json(error, error_version(input)).dump() << std::endl;
  } catch (const std::exception& e) {
    const CniError error(Code::podvsd_refused, e.what());
    log.line(error.what());
    std::cout << error_json(error, error_version(input)).dump() << std::endl;
  }
  return EXIT_FAILURE;
}
