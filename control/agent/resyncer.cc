#include "control/agent/resyncer.h"

#include "base/log.h"

namespace podvs::agent {
namespace {

constexpr const char* kPeriodic = "periodic";

}  // namespace

std::string podvsd_instance(const NodeStatus& status) {
  return status.instance_id ? std::to_string(status.instance_id) : "";
}

Resyncer::Resyncer(Podvsd& probe, ResyncOptions options) : probe_(probe), options_(options) {}

Resyncer::~Resyncer() { stop(); }

void Resyncer::add(std::string controller, std::function<void()> resync) {
  controllers_.emplace_back(std::move(controller), std::move(resync));
}

void Resyncer::set_reporter(std::function<AgentReport()> reporter) {
  reporter_ = std::move(reporter);
}

void Resyncer::start() {
  last_turn_ = Clock::now().time_since_epoch().count();
  running_ = true;
  thread_ = std::thread([this] {
    run();
    running_ = false;
  });
}

void Resyncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Resyncer::probe() {
  NodeStatus status;
  try {
    status = probe_.status();
  } catch (const std::exception& e) {
    if (podvsd_ != PodvsdSeen::silent)
      PODVS_LOG(warning, "podvsd does not answer (%s); the agent resyncs when it is back",
                e.what());
    podvsd_ = PodvsdSeen::silent;
    return;
  }
  last_answer_ = Clock::now().time_since_epoch().count();
  const std::string instance = podvsd_instance(status);
  const bool back = podvsd_ == PodvsdSeen::silent;
  const bool restarted = !instance_.empty() && !instance.empty() && instance != instance_;
  podvsd_ = PodvsdSeen::answering;
  instance_ = instance;
  if (back)
    resync_all("podvsd answers again");
  else if (restarted)
    resync_all("podvsd restarted (instance " + instance + ")");
  report(back || restarted);
}

void Resyncer::report(bool now_due) {
  if (!reporter_) return;
  const auto now = Clock::now();
  if (!now_due && last_report_ != Clock::time_point{} &&
      now - last_report_ < options_.report_interval)
    return;
  try {
    probe_.report_agent(reporter_());
    last_report_ = now;
    report_failed_ = false;
  } catch (const std::exception& e) {
    if (!report_failed_) PODVS_LOG(warning, "ReportAgent failed: %s", e.what());
    report_failed_ = true;
  }
}

void Resyncer::resync_all(const std::string& why) {
  if (why == kPeriodic)  // every period: what it mends is logged by the controllers
    PODVS_LOG(debug, "resync: %s", why.c_str());
  else
    PODVS_LOG(info, "resync: %s", why.c_str());
  for (const auto& [controller, resync] : controllers_) {
    try {
      resync();
    } catch (const std::exception& e) {
      PODVS_LOG(error, "resync of %s failed: %s", controller.c_str(), e.what());
    }
  }
  resynced_ = true;
}

void Resyncer::run() {
  auto next_resync = Clock::now() + options_.period;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    resynced_ = false;
    probe();
    const auto now = Clock::now();
    // A silent podvsd is not resynced on schedule (every call would time out): it is when it
    // answers again.
    if (!resynced_ && now >= next_resync && podvsd_ == PodvsdSeen::answering) resync_all(kPeriodic);
    if (resynced_) next_resync = Clock::now() + options_.period;
    last_turn_ = Clock::now().time_since_epoch().count();
    lock.lock();
    wake_.wait_for(lock, options_.probe_interval, [this] { return stop_; });
  }
}

}  // namespace podvs::agent
