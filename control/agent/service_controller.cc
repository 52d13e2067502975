#include "control/agent/service_controller.h"

#include "base/log.h"
#include "control/api/grpc_convert.h"
#include "control/api/service_spec.h"
#include "podvs.pb.h"

namespace podvs::agent {
namespace {

// How long the first reconcile waits before trying again when podvsd cannot be listed.
constexpr std::chrono::seconds kReconcileRetry{1};

}  // namespace

bool same_service(const ServiceSpec& a, const ServiceSpec& b) {
  return to_proto(a).SerializeAsString() == to_proto(b).SerializeAsString();
}

void ServiceController::Handler::on_add(const std::string& key, const nlohmann::json& object) {
  if (slices_)
    c_.slice_changed(key, &object);
  else
    c_.service_changed(key, &object);
}

void ServiceController::Handler::on_update(const std::string& key, const nlohmann::json&,
                                           const nlohmann::json& object) {
  on_add(key, object);
}

void ServiceController::Handler::on_delete(const std::string& key, const nlohmann::json&) {
  if (slices_)
    c_.slice_changed(key, nullptr);
  else
    c_.service_changed(key, nullptr);
}

void ServiceController::Handler::on_synced() { c_.informer_synced(slices_); }

ServiceController::ServiceController(Podvsd& podvsd, ServiceControllerOptions options)
    : podvsd_(podvsd), options_(std::move(options)) {}

ServiceController::~ServiceController() { stop(); }

void ServiceController::start() {
  flusher_ = std::thread([this] { run(); });
}

void ServiceController::stop() {
  {
    std::lock_guard lock(state_mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void ServiceController::mark_dirty(const std::string& service, Clock::time_point since) {
  auto [it, added] = dirty_.emplace(service, since);
  if (!added && since < it->second) it->second = since;
  wake_.notify_all();
}

void ServiceController::service_changed(const std::string& key, const nlohmann::json* object) {
  std::lock_guard lock(state_mutex_);
  if (object)
    services_[key] = slim_service(*object);
  else
    services_.erase(key);
  mark_dirty(key, Clock::now());
}

void ServiceController::slice_changed(const std::string& key, const nlohmann::json* object) {
  std::lock_guard lock(state_mutex_);
  const Clock::time_point now = Clock::now();
  Clock::time_point since = now;
  if (object)
    if (const auto trigger = slice_trigger_time(*object)) {
      // The trigger time is the API server's wall clock; the age it gives is what counts.
      const auto age = std::chrono::system_clock::now() - *trigger;
      if (age >= std::chrono::system_clock::duration::zero())
        since = now - std::chrono::duration_cast<Clock::duration>(age);
    }
  if (const auto old = slices_.find(key); old != slices_.end() && !old->second.service.empty()) {
    const std::string before = old->second.service;
    if (auto index = slices_by_service_.find(before); index != slices_by_service_.end()) {
      index->second.erase(key);
      if (index->second.empty()) slices_by_service_.erase(index);
    }
    mark_dirty(before, since);
  }
  if (!object) {
    slices_.erase(key);
    return;
  }
  const std::string service = slice_service_key(*object);
  slices_[key] = Slice{service, slim_slice(*object)};
  if (service.empty()) {
    PODVS_LOG(debug, "EndpointSlice %s: no %s label: kept, belongs to no Service", key.c_str(),
              kServiceNameLabel);
    return;
  }
  slices_by_service_[service].insert(key);
  if (!services_.count(service))
    PODVS_LOG(debug, "EndpointSlice %s: Service %s is not known (yet): kept", key.c_str(),
              service.c_str());
  mark_dirty(service, since);
}

void ServiceController::informer_synced(bool slices) {
  std::lock_guard lock(state_mutex_);
  (slices ? slices_synced_ : services_synced_) = true;
  wake_.notify_all();
}

std::map<std::string, ServiceController::Desired> ServiceController::desired_locked(
    const std::set<std::string>& keys, const std::map<std::string, Clock::time_point>& since) {
  std::map<std::string, Desired> out;
  const Clock::time_point now = Clock::now();
  for (const std::string& key : keys) {
    Desired& d = out[key];
    const auto began = since.find(key);
    d.since = began != since.end() ? began->second : now;
    const auto service = services_.find(key);
    if (service == services_.end()) {
      skipped_.erase(key);
      skip_logged_.erase(key);
      continue;
    }
    std::vector<nlohmann::json> slices;
    if (const auto index = slices_by_service_.find(key); index != slices_by_service_.end())
      for (const std::string& slice : index->second) slices.push_back(slices_.at(slice).object);
    ServiceTranslation t = service_from(service->second, slices);
    for (const std::string& note : t.notes)
      if (notes_logged_.insert(key + ": " + note).second)
        PODVS_LOG(warning, "service %s: %s (logged once)", key.c_str(), note.c_str());
    if (!t.spec) {
      skipped_[key] = t.reason;
      std::string& logged = skip_logged_[key];
      if (logged != t.problem) {
        logged = t.problem;
        PODVS_LOG(info, "service %s: skipped (%s): %s", key.c_str(), skip_reason_name(t.reason),
                  t.problem.c_str());
      }
      continue;
    }
    skipped_.erase(key);
    skip_logged_.erase(key);
    t.spec->owner = kAgentOwner;
    d.spec = std::move(t.spec);
  }
  return out;
}

void ServiceController::flush() {
  if (!synced()) {
    resync();
    return;
  }
  std::lock_guard program_lock(program_mutex_);
  std::map<std::string, Desired> desired;
  {
    std::lock_guard lock(state_mutex_);
    std::map<std::string, Clock::time_point> since;
    since.swap(dirty_);
    std::set<std::string> keys;
    for (const auto& [key, _] : since) keys.insert(key);
    desired = desired_locked(keys, since);
    ++flushes_;
  }
  program(desired);
}

bool ServiceController::resync() {
  std::lock_guard program_lock(program_mutex_);
  {
    std::lock_guard lock(state_mutex_);
    if (!services_synced_ || !slices_synced_) return false;
  }
  std::vector<ServiceSpec> listed;
  try {
    listed = podvsd_.list_services();
  } catch (const std::exception& e) {
    ++errors_;
    PODVS_LOG(error, "services: cannot list podvsd's Services to reconcile: %s", e.what());
    return false;
  }
  given_.clear();
  for (ServiceSpec& spec : listed) given_[service_key(spec.ns, spec.name)] = std::move(spec);
  given_count_ = given_.size();
  std::map<std::string, Desired> desired;
  {
    std::lock_guard lock(state_mutex_);
    std::map<std::string, Clock::time_point> since;
    since.swap(dirty_);
    std::set<std::string> keys;
    for (const auto& [key, _] : services_) keys.insert(key);
    for (const auto& [key, _] : given_) keys.insert(key);
    desired = desired_locked(keys, since);
    ++resyncs_;
  }
  const uint64_t adds = adds_, deletes = deletes_;
  program(desired);
  bool first = false;
  {
    std::lock_guard lock(state_mutex_);
    first = !reconciled_;
    reconciled_ = true;
  }
  const uint64_t added = adds_ - adds, removed = deletes_ - deletes;
  if (first)
    PODVS_LOG(
        info, "services synced with podvsd: %zu programmed (%lu added or replaced, %lu deleted)",
        given_.size(), static_cast<unsigned long>(added), static_cast<unsigned long>(removed));
  else if (added + removed > 0)
    PODVS_LOG(info, "services resync: %lu added or replaced, %lu deleted",
              static_cast<unsigned long>(added), static_cast<unsigned long>(removed));
  return true;
}

void ServiceController::program(const std::map<std::string, Desired>& desired) {
  std::vector<std::pair<std::string, const Desired*>> adds;
  for (const auto& [key, d] : desired) {
    const auto given = given_.find(key);
    if (d.spec) {
      if (given == given_.end() || !same_service(given->second, *d.spec))
        adds.emplace_back(key, &d);
    } else if (given != given_.end()) {
      remove(key, d.since);
    }
  }
  if (!adds.empty()) add(adds);
  given_count_ = given_.size();
}

void ServiceController::add(const std::vector<std::pair<std::string, const Desired*>>& adds) {
  std::vector<ServiceSpec> specs;
  specs.reserve(adds.size());
  for (const auto& [key, d] : adds) specs.push_back(*d->spec);
  const std::vector<std::string> refusals = podvsd_.add_services(specs);
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < adds.size(); ++i) {
    const std::string& key = adds[i].first;
    const ServiceSpec& spec = specs[i];
    if (!refusals[i].empty()) {
      note_error(key, refusals[i]);
      continue;
    }
    const bool replaced = given_.count(key) != 0;
    given_[key] = spec;
    error_logged_.erase(key);
    ++adds_;
    const std::chrono::duration<double> latency = now - adds[i].second->since;
    PODVS_LOG(info, "service %s: %s: %s, %zu ports, %zu endpoints, %.1f ms after the change",
              key.c_str(), replaced ? "replaced" : "added", spec.cluster_ip.c_str(),
              spec.ports.size(), spec.endpoints.size(), latency.count() * 1000);
    if (options_.on_programmed) options_.on_programmed(latency);
  }
}

void ServiceController::remove(const std::string& key, Clock::time_point since) {
  const ServiceSpec& spec = given_.at(key);
  try {
    podvsd_.del_service(spec.ns, spec.name);
  } catch (const std::exception& e) {
    note_error(key, e.what());
    return;
  }
  given_.erase(key);
  error_logged_.erase(key);
  ++deletes_;
  const std::chrono::duration<double> latency = Clock::now() - since;
  PODVS_LOG(info, "service %s: deleted from podvsd, %.1f ms after the change", key.c_str(),
            latency.count() * 1000);
  if (options_.on_programmed) options_.on_programmed(latency);
}

void ServiceController::note_error(const std::string& key, const std::string& error) {
  ++errors_;
  std::string& logged = error_logged_[key];
  if (logged == error) return;
  logged = error;
  PODVS_LOG(error, "service %s: not programmed (tried again at its next change or resync): %s",
            key.c_str(), error.c_str());
}

void ServiceController::run() {
  std::unique_lock lock(state_mutex_);
  Clock::time_point next{};  // no flush before this
  while (!stop_) {
    const bool ready = services_synced_ && slices_synced_;
    if (!ready || (reconciled_ && dirty_.empty())) {
      wake_.wait(lock);
      continue;
    }
    if (Clock::now() < next) {
      wake_.wait_until(lock, next);
      continue;
    }
    const bool reconcile = !reconciled_;
    lock.unlock();
    bool ok = true;
    if (reconcile)
      ok = resync();
    else
      flush();
    next = Clock::now() + (ok ? options_.batch_interval : kReconcileRetry);
    lock.lock();
  }
}

ServiceControllerStats ServiceController::stats() const {
  ServiceControllerStats s;
  {
    std::lock_guard lock(state_mutex_);
    s.services = services_.size();
    s.endpoint_slices = slices_.size();
    for (const auto& [key, slice] : slices_)
      if (!services_.count(slice.service)) ++s.orphan_slices;
    for (const auto& [key, reason] : skipped_) ++s.skipped[skip_reason_name(reason)];
    s.flushes = flushes_;
    s.resyncs = resyncs_;
  }
  s.programmed = given_count_;
  s.adds = adds_;
  s.deletes = deletes_;
  s.errors = errors_;
  return s;
}

bool ServiceController::synced() const {
  std::lock_guard lock(state_mutex_);
  return reconciled_;
}

}  // namespace podvs::agent
