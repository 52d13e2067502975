// podvsd: the node daemon. Brings up the EAL, the switch (workers, host port, saved pods), the
// gRPC API and the metrics endpoint, then serves until SIGTERM/SIGINT.
#include <rte_eal.h>
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <exception>
#include <iostream>
#include <memory>

#include "base/log.h"
#include "control/daemon/config.h"
#include "control/daemon/eal.h"
#include "control/daemon/switch_controller.h"
#include "control/server/grpc_server.h"
#include "control/server/metrics_exporter.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

podvs::LogLevel parse_level(const std::string& name) {
  if (name == "error") return podvs::LogLevel::error;
  if (name == "warning") return podvs::LogLevel::warning;
  if (name == "debug") return podvs::LogLevel::debug;
  return podvs::LogLevel::info;
}

int serve(const podvs::Config& config) {
  podvs::eal_init({config.file_prefix, *config.main_cpu, config.worker_cpus, config.no_huge,
                   config.eal_args, config.log_level});
  int rc = 0;
  {
    podvs::SwitchController controller(config);
    try {
      controller.start();
      // Whatever ends this scope (stop, or an exception below), API calls must stop waiting for
      // the control loop before the gRPC server and the exporter wait for those calls.
      struct StopAccepting {
        podvs::SwitchController& c;
        ~StopAccepting() { c.stop_accepting(); }
      };
      podvs::GrpcServer api(controller, config.socket);
      std::unique_ptr<podvs::MetricsExporter> metrics;
      const StopAccepting stop_accepting{controller};  // destroyed before both of them
      if (!config.metrics_listen.empty()) {
        metrics = std::make_unique<podvs::MetricsExporter>(controller, config.metrics_listen);
        api.set_observer([m = metrics.get()](const char* rpc, int code, double seconds) {
          m->observe_api_call(rpc, code, seconds);
        });
      }
      api.start();
      // Before run(): no API call has changed the pod CIDR yet, and the saved one may have won.
      PODVS_LOG(info, "ready: pod CIDR %s, %zu worker(s), API on %s, metrics on %s",
                controller.pod_cidr().str().c_str(), config.worker_cpus.size(),
                config.socket.c_str(),
                config.metrics_listen.empty() ? "(off)" : config.metrics_listen.c_str());
      controller.run(g_stop);
      PODVS_LOG(info, "stopping");
    } catch (const std::exception& e) {
      PODVS_LOG(error, "%s", e.what());
      rc = 1;
    }
    controller.shutdown();
  }
  rte_eal_cleanup();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const podvs::ParsedCommandLine parsed =
      podvs::parse_command_line(argc, argv, std::cout, std::cerr);
  if (parsed.exit_code) return *parsed.exit_code;
  podvs::Config config = *parsed.config;
  podvs::set_log_level(parse_level(config.log_level));

  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // A client hanging up mid-reply must not kill the switch.
  std::signal(SIGPIPE, SIG_IGN);
  // The API socket is root-only: no window between its bind and its chmod to 0600.
  umask(0077);

  try {
    return serve(config);
  } catch (const std::exception& e) {
    PODVS_LOG(error, "%s", e.what());
    return 1;
  }
}
