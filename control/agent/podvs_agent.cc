// podvs-agent: one per node beside podvsd. Follows the Kubernetes API server and programs
// podvsd over its gRPC socket, as kube-proxy and flanneld do for the kernel: the overlay (remote
// nodes from Node objects, this node's VTEP announced in its annotations) and the Services (from
// Services and EndpointSlices). A resyncer mends podvsd periodically and when podvsd comes back,
// and tells podvsd the agent is there (ReportAgent); /metrics and /healthz tell how it goes.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <atomic>
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
#include "control/agent/service_controller.h"
#include "control/agent/service_objects.h"

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

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The Service controller's numbers, read at each scrape (stats() holds its lock briefly, never
// across a podvsd call).
void add_service_metrics(AgentMetrics& metrics, const ServiceController& services) {
  metrics.add_scraped(
      {"podvs_agent_services_skipped",
       "Services of the API server not programmed into podvsd, by reason (headless, "
       "external_name, proxy_name, no_cluster_ip, ipv6, unsupported_protocol, too_many_ports, "
       "invalid)",
       false, "reason", [&services] {
         std::map<std::string, double> by_reason;
         for (SkipReason reason : kAllSkipReasons) by_reason[skip_reason_name(reason)] = 0;
         for (const auto& [reason, count] : services.stats().skipped)
           by_reason[reason] = static_cast<double>(count);
         return by_reason;
       }});
  metrics.add_scraped({"podvs_agent_services",
                       "Service objects the agent knows, and those podvsd holds as it gave them",
                       false, "state", [&services] {
                         const ServiceControllerStats s = services.stats();
                         return std::map<std::string, double>{
                             {"known", static_cast<double>(s.services)},
                             {"programmed", static_cast<double>(s.programmed)}};
                       }});
  metrics.add_scraped({"podvs_agent_service_calls_total",
                       "The Service controller's podvsd calls: Services added or replaced, "
                       "deleted, and calls that failed",
                       true, "outcome", [&services] {
                         const ServiceControllerStats s = services.stats();
                         return std::map<std::string, double>{
                             {"add", static_cast<double>(s.adds)},
                             {"delete", static_cast<double>(s.deletes)},
                             {"error", static_cast<double>(s.errors)}};
                       }});
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
    ServiceControllerOptions service_options;
    service_options.on_programmed = [&metrics](std::chrono::duration<double> latency) {
      metrics.programmed(std::chrono::duration_cast<std::chrono::steady_clock::duration>(latency));
    };
    ServiceController services(*podvsd, service_options);
    add_service_metrics(metrics, services);
    // The informers keep only what the translation reads: a cluster's EndpointSlices in full
    // would cost the agent hundreds of MiB.
    InformerOptions service_informer_options = options;
    service_informer_options.transform = slim_service;
    Informer service_informer(kube, "/api/v1/services", services.services_handler(),
                              service_informer_options, metrics);
    InformerOptions slice_informer_options = options;
    slice_informer_options.transform = slim_slice;
    Informer slice_informer(kube, "/apis/discovery.k8s.io/v1/endpointslices",
                            services.slices_handler(), slice_informer_options, metrics);
    ResyncOptions resync_options;
    resync_options.period = std::chrono::seconds(flags.resync_period_s);
    Resyncer resyncer(*probe, resync_options);
    // The last time both controllers compared podvsd with the whole API state, for the report.
    std::atomic<int64_t> last_sync_unix_s{0};
    const auto note_sync = [&] {
      if (nodes.synced() && services.synced()) last_sync_unix_s = unix_now();
    };
    resyncer.add("nodes", [&nodes] { nodes.resync(); });
    resyncer.add("services", [&] {
      if (services.resync()) note_sync();
    });
    resyncer.set_reporter([&] {
      AgentReport report;
      report.version = PODVS_VERSION;
      report.pid = getpid();
      report.synced = nodes.synced() && services.synced();
      if (report.synced && last_sync_unix_s == 0) note_sync();  // the first reconcile
      report.last_sync_unix_s = last_sync_unix_s;
      report.services = static_cast<uint32_t>(services.stats().programmed);
      report.nodes = static_cast<uint32_t>(nodes.programmed());
      return report;
    });
    const std::vector<const Informer*> informers = {&node_informer, &service_informer,
                                                    &slice_informer};
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
    services.start();
    node_informer.start();
    service_informer.start();
    slice_informer.start();
    resyncer.start();
    PODVS_LOG(info,
              "ready: following nodes, services and endpointslices, resync every %u s, metrics "
              "on %s",
              flags.resync_period_s,
              flags.metrics_listen.empty() ? "(none)" : flags.metrics_listen.c_str());
    int signal = 0;
    sigwait(&stop_signals, &signal);
    PODVS_LOG(info, "signal %d: stopping", signal);
    endpoint.reset();
    resyncer.stop();
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
