// SwitchController: turning the Services the API holds into the data path's ServiceIndex. The API
// side (validation, conflicts, persistence) is switch_services.cc.
#include <netinet/in.h>
#include <rte_cycles.h>

#include "control/api/service_spec.h"
#include "control/daemon/switch_controller.h"

namespace podvs {
namespace {

rte_be32_t be_ipv4(const std::string& text) {
  // Validated by validate_service before it got here.
  return rte_cpu_to_be_32(parse_ipv4(text).value_or(0));
}

ServiceDef service_def(const ServiceSpec& spec) {
  ServiceDef def;
  def.cluster_ip = be_ipv4(spec.cluster_ip);
  for (const std::string& ip : spec.external_ips) def.external_ips.push_back(be_ipv4(ip));
  for (const ServicePort& p : spec.ports)
    def.ports.push_back(
        {static_cast<uint8_t>(p.protocol == ServiceProto::tcp ? IPPROTO_TCP : IPPROTO_UDP), p.port,
         p.target_port != 0 ? p.target_port : p.port, p.node_port});
  for (const ServiceEndpoint& e : spec.endpoints) {
    ServiceDef::Endpoint endpoint{be_ipv4(e.ip), e.ready, e.serving, e.terminating, {}};
    // Resolved here, by name, so the data path only indexes: one port per Service port.
    if (!e.ports.empty())
      for (const ServicePort& p : spec.ports)
        endpoint.target_ports.push_back(endpoint_target_port(e, p));
    def.endpoints.push_back(std::move(endpoint));
  }
  def.client_ip_affinity = spec.client_ip_affinity;
  def.affinity_timeout_s = spec.affinity_timeout_s;
  def.external_local = spec.external_traffic_policy == TrafficPolicy::local;
  def.internal_local = spec.internal_traffic_policy == TrafficPolicy::local;
  return def;
}

}  // namespace

void SwitchController::services_changed(const std::string& key) {
  const auto spec = services_.find(key);
  const auto current = compiled_services_.find(key);
  const CompiledService* replaced =
      current != compiled_services_.end() ? current->second.get() : nullptr;
  if (spec == services_.end()) {
    if (replaced == nullptr) return;
    service_index_ = service_index_->without_service(*replaced);
    retired_services_.push_back(std::move(current->second));
    compiled_services_.erase(current);
    return;
  }
  const ServiceCompileParams params{rte_cpu_to_be_32(config_.pod_cidr.network),
                                    rte_cpu_to_be_32(config_.pod_cidr.mask()),
                                    config_.maglev_table_size, rte_get_tsc_hz()};
  auto compiled = std::make_unique<CompiledService>(service_def(spec->second), params, replaced,
                                                    next_affinity_id_);
  service_index_ = service_index_->with_service(*compiled, replaced);
  if (replaced != nullptr) retired_services_.push_back(std::move(current->second));
  compiled_services_[key] = std::move(compiled);
}

}  // namespace podvs
