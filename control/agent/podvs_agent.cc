// podvs-agent: one per node beside podvsd. Follows the Kubernetes API server and programs
// podvsd over its gRPC socket, as kube-proxy and flanneld do for the kernel: today the overlay
// (remote nodes from Node objects, this node's VTEP announced in its annotations). A resyncer
// mends podvsd periodically and when podvsd comes back; /metrics and /healthz tell how it goes.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "base/log.h"
#include "control/agent/agent_health.h"
#include "control/agent/agent_metrics.h"
#include "control/agent/cluster_config.h"
#include "control/agent/informer.h"
#include "control/agent/kube_client.h"
#include "control/agent/metrics_endpoint.h"
#include "control/agent/node_controller.h"
#include "control/agent/podvsd_client.h"
#include "control/agent/resyncer.h"

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
  std::string metrics_listen = "127.0.0.1:9478";
  unsigned resync_period_s = 30;  // kube-proxy's syncPeriod
  std::string log_level = "info";
};

// How long the resyncer's probe waits for podvsd: a podvsd that is up answers GetStatus in
// milliseconds, and a silent one must be noticed before the next probe.
constexpr std::chrono::seconds kProbeTimeout{2};

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
  app.add_option("--metrics-listen", flags.metrics_listen,
                 "ADDR:PORT serving /metrics (Prometheus) and /healthz; \"\" serves neither")
      ->capture_default_str();
  app.add_option("--resync-period", flags.resync_period_s,
                 "Seconds between resyncs of podvsd against the desired state (also done at "
                 "once when podvsd comes back)")
      ->check(CLI::Range(1u, 86400u))
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
    const auto started = std::chrono::steady_clock::now();
    AgentMetrics metrics;
    KubeClient kube(std::move(config), KubeTimeouts{}, metrics);
    auto podvsd = connect_podvsd(flags.socket, std::chrono::seconds(flags.podvsd_timeout_s),
                                 WhenPodvsdIsDown::wait, metrics);
    auto probe = connect_podvsd(flags.socket, kProbeTimeout, WhenPodvsdIsDown::fail, metrics);
    NodeController nodes(flags.node_name, *podvsd, &kube, metrics);
    InformerOptions options;
    options.page_size = flags.page_size;
    options.watch_timeout = std::chrono::seconds(flags.watch_timeout_s);
    Informer node_informer(kube, "/api/v1/nodes", nodes, options, metrics);
    ResyncOptions resync_options;
    resync_options.period = std::chrono::seconds(flags.resync_period_s);
    Resyncer resyncer(*probe, resync_options);
    resyncer.add("nodes", [&nodes] { nodes.resync(); });
    const std::vector<const Informer*> informers = {&node_informer};
    std::unique_ptr<MetricsEndpoint> endpoint;
    if (!flags.metrics_listen.empty())
      endpoint = std::make_unique<MetricsEndpoint>(flags.metrics_listen, metrics, [&] {
        HealthInputs in;
        in.now = std::chrono::steady_clock::now();
        in.started = started;
        for (const Informer* informer : informers)
          in.informers.emplace_back(informer->resource(), informer->running());
        in.resyncer_running = resyncer.running();
        in.resyncer_turn = resyncer.last_turn();
        in.podvsd_answer = resyncer.last_answer();
        return evaluate_health(in);
      });
    node_informer.start();
    resyncer.start();
    PODVS_LOG(info, "ready: following /api/v1/nodes, resync every %u s, metrics on %s",
              flags.resync_period_s,
              flags.metrics_listen.empty() ? "(none)" : flags.metrics_listen.c_str());
    int signal = 0;
    sigwait(&stop_signals, &signal);
    PODVS_LOG(info, "signal %d: stopping", signal);
    endpoint.reset();
    resyncer.stop();
    node_informer.stop();
  } catch (const std::exception& e) {
    PODVS_LOG(error, "%s", e.what());
    return 1;
  }
  PODVS_LOG(info, "stopped");
  return 0;
}
