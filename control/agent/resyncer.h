// Keeps podvsd in step with the controllers' desired state when no event comes to do it: every
// period (kube-proxy's syncPeriod: 30 s by default), and at once when podvsd comes back, it calls
// resync() on every registered controller. Between resyncs it probes podvsd (GetStatus) every
// probe interval on a connection that fails at once (WhenPodvsdIsDown::fail), so it notices
// podvsd going away and coming back: a podvsd that restarted may have lost what the agent gave
// it, or an operator may have changed it meanwhile.
//
// Threads: run on its own thread between start() and stop(); add() only before start(). The
// controllers' resync() must be safe to call from that thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/agent/agent_stats.h"
#include "control/agent/podvsd_client.h"

namespace podvs::agent {

struct ResyncOptions {
  std::chrono::milliseconds period{30000};
  // Often enough that a podvsd restarted by its supervisor within a second or two is noticed;
  // a GetStatus a second costs podvsd's control thread nothing measurable.
  std::chrono::milliseconds probe_interval{1000};
  // How often the agent tells podvsd it is there (ReportAgent); podvsd shows an agent whose last
  // report is older than 30 s as stale, so three reports may be lost before it does.
  std::chrono::milliseconds report_interval{10000};
};

// Which podvsd process answered, or "" when podvsd does not say. A podvsd that restarted between
// two probes answers with another instance, which a probe cannot otherwise tell.
std::string podvsd_instance(const NodeStatus& status);

class Resyncer {
 public:
  using Clock = std::chrono::steady_clock;

  // `probe`: a connection made with WhenPodvsdIsDown::fail.
  Resyncer(Podvsd& probe, ResyncOptions options);
  ~Resyncer();

  // Registers one controller's resync, named for the logs.
  void add(std::string controller, std::function<void()> resync);
  // What the agent reports to podvsd (ReportAgent) every report interval, and at once when
  // podvsd answers again or restarted (a new podvsd knows no agent). Before start().
  void set_reporter(std::function<AgentReport()> reporter);
  void start();
  void stop();

  // One probe of podvsd; resyncs every controller when podvsd came back (it did not answer the
  // last probe, or answers as another instance). The thread calls it every probe interval.
  void probe();
  // Calls every registered resync; one that throws does not keep the others from running.
  void resync_all(const std::string& why);
  // Sends the reporter's report to podvsd when one is due (or `now_due`); a failure is logged
  // once until a report succeeds again.
  void report(bool now_due);

  // For /healthz: when the thread last went round its loop (a resyncer stuck behind a
  // controller's lock stops), and when podvsd last answered a probe (epoch: never).
  Clock::time_point last_turn() const { return Clock::time_point(Clock::duration(last_turn_)); }
  Clock::time_point last_answer() const { return Clock::time_point(Clock::duration(last_answer_)); }
  bool running() const { return running_; }

 private:
  void run();

  Podvsd& probe_;
  ResyncOptions options_;
  std::vector<std::pair<std::string, std::function<void()>>> controllers_;
  std::function<AgentReport()> reporter_;
  Clock::time_point last_report_{};  // the probing thread's only
  bool report_failed_ = false;
  enum class PodvsdSeen { not_yet, answering, silent };
  PodvsdSeen podvsd_ = PodvsdSeen::not_yet;  // touched by the probing thread only
  std::string instance_;
  bool resynced_ = false;  // probe() resynced: the periodic one starts over
  std::atomic<Clock::rep> last_turn_{0}, last_answer_{0};
  std::atomic<bool> running_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace podvs::agent
