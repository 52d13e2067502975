#include "control/agent/agent_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "control/api/grpc_code_name.h"

namespace podvs::agent {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

const char* watch_end_name(WatchEnd why) {
  switch (why) {
    case WatchEnd::closed:
      return "closed";
    case WatchEnd::broken:
      return "broken";
    case WatchEnd::error_event:
      return "error_event";
    case WatchEnd::expired:
      return "expired";
  }
  return "unknown";
}

Family<Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

struct AgentMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : watch_restarts(
            counter(r, "podvs_agent_watch_restarts_total",
                    "WATCH streams that ended and were started again, by resource and "
                    "why (closed by the server, broken, an ERROR event, expired: 410).")),
        relists(counter(r, "podvs_agent_relists_total",
                        "Complete LISTs after an informer's first (after 410 Gone), by resource.")),
        objects(gauge(r, "podvs_agent_objects", "Objects in the informer's cache, by resource.")),
        synced(gauge(r, "podvs_agent_informer_synced",
                     "1 once the informer delivered its first complete LIST, by resource.")),
        api_errors(counter(r, "podvs_agent_api_errors_total",
                           "Failed requests to the API server, by HTTP status code (transport: "
                           "no answer, or a stream that broke).")),
        podvsd_errors(counter(r, "podvs_agent_podvsd_call_errors_total",
                              "podvsd gRPC calls that failed, by gRPC status code.")),
        nodes_skipped(counter(r, "podvs_agent_nodes_skipped_total",
                              "Nodes not programmed as remote nodes, by reason (once per "
                              "distinct problem of a Node, as it is logged).")),
        resyncs(counter(r, "podvs_agent_resyncs_total",
                        "Resyncs of a controller against podvsd, by controller.")),
        repairs(counter(r, "podvs_agent_resync_repairs_total",
                        "Differences from the desired state a resync mended in podvsd or the API "
                        "server, by controller and what (missing, different, extra, pod_cidr, "
                        "annotations).")),
        programming(prometheus::BuildHistogram()
                        .Name("podvs_agent_network_programming_duration_seconds")
                        .Help("From a change's trigger time (or its event's arrival) to podvsd "
                              "having it, as kube-proxy's network_programming_duration_seconds.")
                        .Register(r)
                        .Add({}, kProgrammingBuckets)) {
    gauge(r, "podvs_agent_build_info", "podvs-agent's build (value 1).")
        .Add({{"version", PODVS_VERSION}})
        .Set(1);
  }

  Family<Counter>& watch_restarts;
  Family<Counter>& relists;
  Family<Gauge>& objects;
  Family<Gauge>& synced;
  Family<Counter>& api_errors;
  Family<Counter>& podvsd_errors;
  Family<Counter>& nodes_skipped;
  Family<Counter>& resyncs;
  Family<Counter>& repairs;
  Histogram& programming;
};

AgentMetrics::AgentMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)) {}

AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::watch_ended(const std::string& resource, WatchEnd why) {
  families_->watch_restarts.Add({{"resource", resource}, {"reason", watch_end_name(why)}})
      .Increment();
}

void AgentMetrics::listed(const std::string& resource, bool relist) {
  // Added on the first LIST too, so the series exists (at 0) before the first relist.
  auto& relists = families_->relists.Add({{"resource", resource}});
  if (relist) relists.Increment();
}

void AgentMetrics::objects(const std::string& resource, size_t count) {
  families_->objects.Add({{"resource", resource}}).Set(static_cast<double>(count));
}

void AgentMetrics::synced(const std::string& resource, bool synced) {
  families_->synced.Add({{"resource", resource}}).Set(synced ? 1 : 0);
}

void AgentMetrics::api_error(int http_status) {
  families_->api_errors
      .Add({{"code", http_status == 0 ? "transport" : std::to_string(http_status)}})
      .Increment();
}

void AgentMetrics::podvsd_call(int grpc_code) {
  if (grpc_code != 0)
    families_->podvsd_errors.Add({{"code", grpc_code_name(grpc_code)}}).Increment();
}

void AgentMetrics::node_skipped(const std::string& reason) {
  families_->nodes_skipped.Add({{"reason", reason}}).Increment();
}

void AgentMetrics::resynced(const std::string& controller) {
  families_->resyncs.Add({{"controller", controller}}).Increment();
}

void AgentMetrics::repaired(const std::string& controller, const std::string& what) {
  families_->repairs.Add({{"controller", controller}, {"what", what}}).Increment();
}

void AgentMetrics::programmed(std::chrono::steady_clock::duration latency) {
  families_->programming.Observe(std::chrono::duration<double>(latency).count());
}

void AgentMetrics::add_scraped(ScrapedFamily family) {
  std::lock_guard lock(scraped_mutex_);
  scraped_.push_back(std::move(family));
}

std::string AgentMetrics::scrape() const {
  auto families = registry_->Collect();
  {
    std::lock_guard lock(scraped_mutex_);
    for (const ScrapedFamily& source : scraped_) {
      prometheus::MetricFamily f{
          source.name,
          source.help,
          source.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge,
          {}};
      for (const auto& [value, number] : source.read()) {
        prometheus::ClientMetric m;
        m.label = {{source.label, value}};
        if (source.counter)
          m.counter.value = number;
        else
          m.gauge.value = number;
        f.metric.push_back(std::move(m));
      }
      families.push_back(std::move(f));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace podvs::agent
