// The control thread's half of Kubernetes Services: the API (add, delete, list), admission against
// this node (ServiceAdmission), persistence in ServiceStore and restoring at start. Compiling
// Services into what workers read is services_changed's job (switch_service_table.cc); everything
// here runs on the control thread.
#include <chrono>
#include <utility>

#include "base/log.h"
#include "control/api/owner.h"
#include "control/api/service_spec.h"
#include "control/daemon/switch_controller.h"

namespace podvs {

ServiceNode SwitchController::service_node() const {
  std::string unavailable;
  if (!services_enabled())
    unavailable = "Services need connection tracking; podvsd runs with conntrack_entries 0";
  return {unavailable,      config_.maglev_table_size, config_.gateway_ip,
          host_ip_,         config_.host_port,         config_.node_ip,
          config_.pod_cidr, config_.cluster_cidr,      config_.service_cidr};
}

Result<ServiceSpec> SwitchController::do_add_service(const ServiceSpec& spec, bool save) {
  auto admitted = service_admission_.admit(spec, services_);
  if (!admitted.is_ok()) return admitted;
  const ServiceSpec& service = *admitted.value;
  const std::string key = service_key(service.ns, service.name);
  if (save) {
    try {
      service_store_.save(service);
    } catch (const std::exception& e) {
      return Result<ServiceSpec>::fail(ErrorCode::internal,
                                       "service " + key + " was not programmed: " + e.what());
    }
  }
  const auto old = services_.find(key);
  service_admission_.added(service, old == services_.end() ? nullptr : &old->second);
  services_[key] = service;
  services_changed(key);
  return admitted;
}

Result<ServiceSpec> SwitchController::add_service(const ServiceSpec& spec) {
  return on_control_thread<ServiceSpec>([this, spec] {
    auto result = do_add_service(spec, true);
    if (result.is_ok()) publish_table();
    return result;
  });
}

Result<std::vector<Result<ServiceSpec>>> SwitchController::add_services(
    const std::vector<ServiceSpec>& specs) {
  using Results = std::vector<Result<ServiceSpec>>;
  return on_control_thread<Results>([this, &specs] {
    Results results;
    results.reserve(specs.size());
    bool added = false;
    for (const ServiceSpec& spec : specs) {
      results.push_back(do_add_service(spec, true));
      added = added || results.back().is_ok();
    }
    // What makes a batch cheap: one table build and RCU grace period for all of them. Paid per
    // Service, the control thread spent most of its time waiting out grace periods (workers with
    // idle back-off pass a quiescent state only between sleeps). Saves are group-committed as
    // AddService's are (ServiceStore).
    if (added) publish_table();
    return Result<Results>::ok(std::move(results));
  });
}

Result<Empty> SwitchController::del_service(const std::string& ns, const std::string& name,
                                            const std::optional<std::string>& owner) {
  return on_control_thread<Empty>([this, ns, name, owner] {
    const std::string key = service_key(ns, name);
    const auto it = services_.find(key);
    if (it == services_.end()) return Result<Empty>::ok({});
    if (std::string refusal = delete_refusal("service " + key, it->second.owner, owner);
        !refusal.empty())
      return Result<Empty>::fail(ErrorCode::failed_precondition, refusal);
    try {
      service_store_.remove(ns, name);
    } catch (const std::exception& e) {
      return Result<Empty>::fail(ErrorCode::internal,
                                 "service " + key + " was not deleted: " + e.what());
    }
    service_admission_.removed(it->second);
    services_.erase(it);
    services_changed(key);
    publish_table();
    return Result<Empty>::ok({});
  });
}

Result<std::vector<ServiceSpec>> SwitchController::list_services(
    const std::optional<std::string>& owner) {
  return on_control_thread<std::vector<ServiceSpec>>([this, owner] {
    std::vector<ServiceSpec> out;
    for (const auto& [key, service] : services_)
      if (owner_selected(owner, service.owner)) out.push_back(service);
    return Result<std::vector<ServiceSpec>>::ok(std::move(out));
  });
}

void SwitchController::restore_services() {
  // A damaged file stops the start, as a damaged state file does: guessing could serve the wrong
  // endpoints. A valid file that no longer fits this node (its config changed) is skipped; the
  // file stays for the operator to see.
  size_t restored = 0;
  for (const ServiceSpec& saved : service_store_.load_all()) {
    if (auto r = do_add_service(saved, false); !r.is_ok()) {
      PODVS_LOG(warning, "saved service in %s not restored: %s",
                service_store_.file(saved.ns, saved.name).c_str(), r.error.message.c_str());
      continue;
    }
    ++restored;
  }
  publish_table();
  PODVS_LOG(info, "restored %zu services from %s", restored, service_store_.dir().c_str());
}

void SwitchController::flush_services(bool all) {
  try {
    if (all)
      service_store_.flush();
    else
      service_store_.flush_if_due(std::chrono::steady_clock::now());
  } catch (const std::exception& e) {
    // The Services are programmed; only their survival across a restart is at stake. The next
    // flush retries what is still pending.
    PODVS_LOG(error, "saving services: %s", e.what());
  }
}

}  // namespace podvs
