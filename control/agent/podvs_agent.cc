// podvs-agent: one per node beside podvsd. Follows the Kubernetes API server and programs
// podvsd over its gRPC socket, as kube-proxy and flanneld do for the kernel: the overlay (remote
// nodes from Node objects, this node's VTEP announced in its annotations) and the Services
// (from Services and EndpointSlices).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "base/log.h"
#include "control/agent/cluster_config.h"
#include "control/agent/informer.h"
#include "control/agent/kube_client.h"
#include "control/agent/node_controller.h"
#include "control/agent/podvsd_client.h"
#include "control/agent/service_controller.h"

using namespace podvs;
using namespace podvs::agent;

namespace {

struct Flags {
  std::string kubeconfig;
  std::string api_server;
  std::string node_name;
  std::string socket = "/run/podvs/podvsd.sock";
  unsigned page_size = 500;
  unsigned watch_timeout_s = 300;
  unsigned podvsd_timeout_s = 10;
  std::string log_level = "info";
};

LogLevel parse_level(const std::string& text) {
  if (text == "error") return LogLevel::error;
  if (text == "warning") return LogLevel::warning;
  if (text == "debug") return LogLevel::debug;
  return LogLevel::info;
}

ClusterConfig cluster_config(const Flags& flags) {
  ClusterConfig config = flags.kubeconfig.empty() ? load_in_cluster(in_cluster_from_environment())
                                                  : load_kubeconfig(flags.kubeconfig);
  if (!flags.api_server.empty()) override_server(config, flags.api_server);
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  set_log_program("podvs-agent");
  Flags flags;
  CLI::App app{"podvs-agent: programs podvsd from the Kubernetes API server"};
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "A kubeconfig file (its current context); default: the in-cluster service account")
      ->check(CLI::ExistingFile);
  app.add_option("--api-server", flags.api_server, "The API server URL, overriding the config's");
  app.add_option("--node-name", flags.node_name,
                 "This node's name (default: $NODE_NAME, else the host name)");
  app.add_option("--socket", flags.socket, "podvsd's API socket")->capture_default_str();
  app.add_option("--page-size", flags.page_size, "Objects per LIST page")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  app.add_option("--watch-timeout", flags.watch_timeout_s,
                 "Seconds a WATCH lasts before it is renewed (timeoutSeconds)")
      ->check(CLI::Range(1u, 3600u))
      ->capture_default_str();
  app.add_option("--podvsd-timeout", flags.podvsd_timeout_s, "Seconds to wait for a podvsd call")
      ->check(CLI::Range(1u, 600u))
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "error, warning, info or debug")
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  set_log_level(parse_level(flags.log_level));

  // SIGTERM and SIGINT are taken by sigwait below, so every thread must start with them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    if (flags.node_name.empty()) flags.node_name = default_node_name();
    ClusterConfig config = cluster_config(flags);
    PODVS_LOG(info, "node %s, API server %s (%s), podvsd at %s", flags.node_name.c_str(),
              config.server.c_str(), config.source.c_str(), flags.socket.c_str());
    KubeClient kube(std::move(config));
    auto podvsd = connect_podvsd(flags.socket, std::chrono::seconds(flags.podvsd_timeout_s));
    NodeController nodes(flags.node_name, *podvsd, &kube);
    InformerOptions options;
    options.page_size = flags.page_size;
    options.watch_timeout = std::chrono::seconds(flags.watch_timeout_s);
    Informer node_informer(kube, "/api/v1/nodes", nodes, options);
    ServiceController services(*podvsd);
    Informer service_informer(kube, "/api/v1/services", services.services_handler(), options);
    Informer slice_informer(kube, "/apis/discovery.k8s.io/v1/endpointslices",
                            services.slices_handler(), options);
    services.start();
    node_informer.start();
    service_informer.start();
    slice_informer.start();
    PODVS_LOG(info, "ready: following nodes, services and endpointslices");
    int signal = 0;
    sigwait(&stop_signals, &signal);
    PODVS_LOG(info, "signal %d: stopping", signal);
    slice_informer.stop();
    service_informer.stop();
    node_informer.stop();
    services.stop();
  } catch (const std::exception& e) {
    PODVS_LOG(error, "%s", e.what());
    return 1;
  }
  PODVS_LOG(info, "stopped");
  return 0;
}
