// Follows Services and EndpointSlices (two informers, each calling on its own thread) and
// programs podvsd's Services with kube-proxy's semantics (service_translation.h).
//
// Threads: the informers' handler calls only record the object and mark its Service dirty,
// under `state_mutex_`. One flusher thread turns dirty Services into podvsd calls, at most once
// per `batch_interval` (so a burst of events becomes one call per Service, and no change waits
// longer than about one interval); resync() may run on any thread. Flushes and resyncs are
// serialised by `program_mutex_`, which alone guards what podvsd was last given; podvsd is
// never called with `state_mutex_` held, so a slow podvsd never stalls the informers.
//
// What podvsd holds is the agent's (owner kAgentOwner) and is compared, not rewritten: a Service
// is added only when its ServiceSpec differs from what podvsd was last given, so an agent
// restart (which starts from podvsd's own list) re-adds nothing unchanged and disturbs no
// connection. The first flush waits until both informers have synced, then reconciles: adds
// and replaces what differs, deletes the agent's Services the API no longer has. An operator's
// Services (another owner) are never listed, replaced or deleted.
//
// A Service podvsd refuses is logged once per distinct error and tried again at its next change
// or at the next resync; the others go on.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "control/agent/informer_cache.h"
#include "control/agent/podvsd_client.h"
#include "control/agent/service_translation.h"

namespace podvs::agent {

// The controller's numbers, for the agent's metrics.
struct ServiceControllerStats {
  size_t services = 0;                    // Service objects known
  size_t endpoint_slices = 0;             // EndpointSlice objects known
  size_t orphan_slices = 0;               // of those, slices whose Service is not known (yet)
  size_t programmed = 0;                  // Services podvsd holds as the agent last gave them
  std::map<std::string, size_t> skipped;  // Services not programmed now, by skip_reason_name
  uint64_t adds = 0;     // AddService calls that succeeded (new or replaced Services)
  uint64_t deletes = 0;  // DelService calls that succeeded
  uint64_t errors = 0;   // podvsd calls that failed
  uint64_t flushes = 0;  // batches of dirty Services handled
  uint64_t resyncs = 0;  // comparisons of podvsd's whole list with the desired state
};

struct ServiceControllerOptions {
  // Changes are coalesced for this long at most: kube-proxy's minSyncPeriod, much shorter.
  std::chrono::milliseconds batch_interval{50};
  // Called on the flusher's thread for each Service podvsd has taken (added, replaced or
  // deleted): the time from its change (the slice's last-change-trigger-time, else the event's
  // arrival) to podvsd's answer. kube-proxy's network_programming_duration_seconds.
  std::function<void(std::chrono::duration<double>)> on_programmed;
};

class ServiceController {
 public:
  ServiceController(Podvsd& podvsd, ServiceControllerOptions options = {});
  ~ServiceController();
  ServiceController(const ServiceController&) = delete;
  ServiceController& operator=(const ServiceController&) = delete;

  // The handlers to give the two informers.
  InformerHandler& services_handler() { return services_handler_; }
  InformerHandler& slices_handler() { return slices_handler_; }

  // Starts the flusher thread; stop() (or the destructor) ends it.
  void start();
  void stop();

  // Compares podvsd's list of the agent's Services with the desired state and mends every
  // difference (podvsd restarted without its state, a call that failed, a clash an operator
  // removed since). Returns false, doing nothing, until both informers have synced once.
  // Thread safe; waits for a running flush.
  bool resync();
  // Programs every dirty Service now (tests; the flusher does it on its own).
  void flush();

  ServiceControllerStats stats() const;
  // Whether the first reconcile with podvsd has been made (the agent is in sync).
  bool synced() const;

 private:
  using Clock = std::chrono::steady_clock;

  // One of the two informers' views, forwarding to the controller.
  class Handler final : public InformerHandler {
   public:
    Handler(ServiceController& c, bool slices) : c_(c), slices_(slices) {}
    void on_add(const std::string& key, const nlohmann::json& object) override;
    void on_update(const std::string& key, const nlohmann::json& old_object,
                   const nlohmann::json& object) override;
    void on_delete(const std::string& key, const nlohmann::json& last) override;
    void on_synced() override;

   private:
    ServiceController& c_;
    bool slices_;
  };

  struct Slice {
    std::string service;  // "ns/name" from its label, or ""
    nlohmann::json object;
  };
  // What a flush must make true for one Service: its spec, or its absence (deleted or skipped).
  struct Desired {
    std::optional<ServiceSpec> spec;
    Clock::time_point since;  // when the change began, for the latency
  };

  void service_changed(const std::string& key, const nlohmann::json* object);
  void slice_changed(const std::string& key, const nlohmann::json* object);
  void informer_synced(bool slices);
  void mark_dirty(const std::string& service, Clock::time_point since);
  // With state_mutex_ held: the desired state of `keys`, logging skips and notes.
  std::map<std::string, Desired> desired_locked(
      const std::set<std::string>& keys, const std::map<std::string, Clock::time_point>& since);
  // With program_mutex_ held: makes podvsd match `desired` for its keys, deletes first (a
  // ClusterIP a deleted Service frees may be taken by a new one), then every add in one batch.
  void program(const std::map<std::string, Desired>& desired);
  void add(const std::vector<std::pair<std::string, const Desired*>>& adds);
  void remove(const std::string& key, Clock::time_point since);
  void note_error(const std::string& key, const std::string& error);
  void run();

  Podvsd& podvsd_;
  ServiceControllerOptions options_;
  Handler services_handler_{*this, false};
  Handler slices_handler_{*this, true};

  mutable std::mutex state_mutex_;  // guards everything up to program_mutex_
  std::condition_variable wake_;
  std::map<std::string, nlohmann::json> services_;
  std::map<std::string, Slice> slices_;
  std::map<std::string, std::set<std::string>> slices_by_service_;
  std::map<std::string, Clock::time_point> dirty_;  // Service key -> when its change began
  std::map<std::string, std::string> skip_logged_;  // the skip last logged, by Service
  std::map<std::string, SkipReason> skipped_;
  std::set<std::string> notes_logged_;
  bool services_synced_ = false, slices_synced_ = false;
  bool reconciled_ = false;  // the first resync has been made
  bool stop_ = false;
  uint64_t flushes_ = 0, resyncs_ = 0;

  std::mutex program_mutex_;                  // guards what follows; taken before state_mutex_
  std::map<std::string, ServiceSpec> given_;  // what podvsd was last given, by key
  std::map<std::string, std::string> error_logged_;  // the podvsd error last logged, by key
  // Read by stats() without waiting for a flush.
  std::atomic<size_t> given_count_{0};
  std::atomic<uint64_t> adds_{0}, deletes_{0}, errors_{0};

  std::thread flusher_;
};

// Whether podvsd holds `a` as `b`: every field, compared through their gRPC form so a field
// added to ServiceSpec (and its conversion) is compared without a change here.
bool same_service(const ServiceSpec& a, const ServiceSpec& b);

}  // namespace podvs::agent
