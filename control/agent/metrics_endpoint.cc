#include "control/agent/metrics_endpoint.h"

#include <CivetServer.h>

#include <stdexcept>

#include "base/log.h"

namespace podvs::agent {
namespace {

// Two threads: a scrape and a probe at once; nothing else comes here.
constexpr const char* kThreads = "2";

// CivetWeb's own error text (why a port cannot be opened, a request it could not read) comes
// through its log callback. While the server starts, the constructing thread keeps it for the
// error it throws; later ones are logged.
thread_local std::string* g_start_error = nullptr;

int civetweb_log(const mg_connection*, const char* message) {
  if (g_start_error)
    *g_start_error += (g_start_error->empty() ? "" : "; ") + std::string(message);
  else
    PODVS_LOG(warning, "metrics endpoint: %s", message);
  return 1;  // handled: CivetWeb prints nothing itself
}

void reply(mg_connection* conn, int code, const char* reason, const char* content_type,
           const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            code, reason, content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

class MetricsHandler final : public CivetHandler {
 public:
  explicit MetricsHandler(const AgentMetrics& metrics) : metrics_(metrics) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    reply(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", metrics_.scrape());
    return true;
  }

 private:
  const AgentMetrics& metrics_;
};

class HealthHandler final : public CivetHandler {
 public:
  explicit HealthHandler(std::function<Health()> health) : health_(std::move(health)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const Health h = health_();
    reply(conn, h.ok ? 200 : 503, h.ok ? "OK" : "Service Unavailable", "text/plain", h.text);
    return true;
  }

 private:
  std::function<Health()> health_;
};

}  // namespace

struct MetricsEndpoint::Handlers {
  MetricsHandler metrics;
  HealthHandler health;
};

MetricsEndpoint::MetricsEndpoint(const std::string& listen, const AgentMetrics& metrics,
                                 std::function<Health()> health)
    : handlers_(std::make_unique<Handlers>(
          Handlers{MetricsHandler(metrics), HealthHandler(std::move(health))})) {
  CivetCallbacks callbacks;
  callbacks.log_message = civetweb_log;
  std::string why;
  g_start_error = &why;
  try {
    server_ = std::make_unique<CivetServer>(
        std::vector<std::string>{"listening_ports", listen, "num_threads", kThreads}, &callbacks);
  } catch (const CivetException& e) {
    g_start_error = nullptr;
    throw std::runtime_error("--metrics-listen " + listen +
                             ": cannot listen there: " + (why.empty() ? e.what() : why));
  }
  g_start_error = nullptr;
  server_->addHandler("/metrics", handlers_->metrics);
  server_->addHandler("/healthz", handlers_->health);
}

// The server stops (and joins its threads) before the handlers it calls go away.
MetricsEndpoint::~MetricsEndpoint() { server_.reset(); }

}  // namespace podvs::agent
