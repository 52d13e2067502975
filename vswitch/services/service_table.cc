#include "vswitch/services/service_table.h"

#include <netinet/in.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <bit>
#include <map>
#include <utility>

#include "vswitch/services/maglev.h"

namespace podvs {
namespace {

// Kubernetes' rule for new connections: ready endpoints; when none is ready, the ones still
// serving while terminating (so a rolling update never drops to "no endpoints" while old pods
// can still answer).
std::vector<ServiceBackend> backends_of(const ServiceDef& def, size_t port_index,
                                        const ServiceCompileParams& params, bool local_only) {
  const ServiceDef::Port& port = def.ports[port_index];
  std::vector<ServiceBackend> all;
  for (const ServiceDef::Endpoint& e : def.endpoints) {
    ServiceBackend b;
    b.ip = e.ip;
    b.port = rte_cpu_to_be_16(port_index < e.target_ports.size() ? e.target_ports[port_index]
                                                                 : port.target_port);
    b.local = (e.ip & params.pod_mask) == params.pod_net;
    all.push_back(b);
  }
  const auto usable = [&](size_t i, bool terminating_ok) {
    const ServiceDef::Endpoint& e = def.endpoints[i];
    if (local_only && !all[i].local) return false;
    return terminating_ok ? (e.serving && e.terminating) : e.ready;
  };
  bool any_ready = false;
  for (size_t i = 0; i < all.size(); ++i) any_ready |= usable(i, false);
  for (size_t i = 0; i < all.size(); ++i) all[i].eligible = usable(i, !any_ready);
  std::sort(all.begin(), all.end());
  return all;
}

enum class FrontendKind : uint8_t { cluster_ip, external_ip, node_port };

std::unique_ptr<ServiceFrontend> make_frontend(const ServiceDef& def, size_t port_index,
                                               const ServiceCompileParams& params,
                                               FrontendKind kind, uint32_t affinity_id) {
  auto f = std::make_unique<ServiceFrontend>();
  f->affinity_id = affinity_id;
  f->node_port = kind == FrontendKind::node_port;
  f->external = kind == FrontendKind::external_ip;
  // External IPs follow externalTrafficPolicy as NodePorts do (kube-proxy's rule).
  const bool external = kind != FrontendKind::cluster_ip;
  const bool local_only = external ? def.external_local : def.internal_local;
  // externalTrafficPolicy Cluster may send the connection to another node, whose reply must come
  // back through us to be translated: the source becomes ours. Local keeps the client's address.
  f->snat = external && !def.external_local;
  f->affinity = def.client_ip_affinity;
  f->affinity_timeout_tsc = uint64_t{def.affinity_timeout_s} * params.tsc_hz;
  f->backends = backends_of(def, port_index, params, local_only);
  std::vector<uint64_t> keys;
  std::vector<uint16_t> index_of_key;
  for (size_t i = 0; i < f->backends.size(); ++i)
    if (f->backends[i].eligible) {
      keys.push_back(f->backends[i].key());
      index_of_key.push_back(static_cast<uint16_t>(i));
    }
  f->maglev = build_maglev_table(keys, params.maglev_size);
  for (uint16_t& slot : f->maglev) slot = index_of_key[slot];
  return f;
}

}  // namespace

const ServiceBackend* ServiceFrontend::find(rte_be32_t ip, rte_be16_t port) const {
  ServiceBackend probe;
  probe.ip = ip;
  probe.port = port;
  const auto it = std::lower_bound(backends.begin(), backends.end(), probe);
  return it != backends.end() && it->ip == ip && it->port == port ? &*it : nullptr;
}

CompiledService::CompiledService(const ServiceDef& def, const ServiceCompileParams& params,
                                 const CompiledService* previous, uint32_t& next_id)
    : cluster_ip_(def.cluster_ip) {
  for (size_t index = 0; index < def.ports.size(); ++index) {
    const ServiceDef::Port& port = def.ports[index];
    const rte_be16_t be_port = rte_cpu_to_be_16(port.port);
    uint32_t id = 0;
    if (previous != nullptr)
      for (const Entry& e : previous->entries_)
        if (e.ip == previous->cluster_ip_ && e.port == be_port && e.proto == port.proto)
          id = e.frontend->affinity_id;
    if (id == 0) id = next_id++;
    entries_.push_back(
        Entry{.ip = def.cluster_ip,
              .port = be_port,
              .proto = port.proto,
              .frontend = make_frontend(def, index, params, FrontendKind::cluster_ip, id)});
    for (const rte_be32_t external : def.external_ips)
      entries_.push_back(
          Entry{.ip = external,
                .port = be_port,
                .proto = port.proto,
                .frontend = make_frontend(def, index, params, FrontendKind::external_ip, id)});
    if (port.node_port != 0)
      entries_.push_back(
          Entry{.ip = 0,
                .port = rte_cpu_to_be_16(port.node_port),
                .proto = port.proto,
                .frontend = make_frontend(def, index, params, FrontendKind::node_port, id)});
  }
}

uint32_t ServiceIndex::hash(rte_be32_t ip, rte_be16_t port, uint8_t proto) {
  return rte_hash_crc_4byte(ip, (uint32_t{port} << 8) | proto);
}

const ServiceIndex::Slot* ServiceIndex::find_slot(rte_be32_t ip, rte_be16_t port,
                                                  uint8_t proto) const {
  for (uint32_t i = hash(ip, port, proto) & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (!s.used) return nullptr;
    if (s.ip == ip && s.port == port && s.proto == proto) return &s;
  }
}

void ServiceIndex::insert(const Slot& slot) {
  uint32_t i = hash(slot.ip, slot.port, slot.proto) & mask_;
  while (slots_[i].used) i = (i + 1) & mask_;
  slots_[i] = slot;
  ++used_;
}

// Backward-shift deletion keeps every probe chain unbroken without tombstones, so lookups never
// slow down as Services come and go.
void ServiceIndex::erase(rte_be32_t ip, rte_be16_t port, uint8_t proto) {
  uint32_t i = hash(ip, port, proto) & mask_;
  while (slots_[i].used &&
         !(slots_[i].ip == ip && slots_[i].port == port && slots_[i].proto == proto))
    i = (i + 1) & mask_;
  if (!slots_[i].used) return;
  --used_;
  for (uint32_t j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
    const uint32_t home = hash(slots_[j].ip, slots_[j].port, slots_[j].proto) & mask_;
    // Slot j may move into the hole at i unless its home lies cyclically in (i, j].
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
}

void ServiceIndex::resize_for(size_t used) {
  const auto wanted = std::max<uint32_t>(kMinSlots, std::bit_ceil(static_cast<uint32_t>(used * 2)));
  if (wanted == slots_.size()) return;
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(wanted));
  mask_ = wanted - 1;
  used_ = 0;
  for (const Slot& s : old)
    if (s.used) insert(s);
}

void ServiceIndex::add(const CompiledService& service) {
  resize_for(used_ + service.entries().size() + 1);
  insert(
      Slot{.ip = service.cluster_ip(), .port = 0, .proto = 0, .used = true, .frontend = nullptr});
  ++cluster_ips_;
  for (const CompiledService::Entry& e : service.entries()) {
    insert(Slot{
        .ip = e.ip, .port = e.port, .proto = e.proto, .used = true, .frontend = e.frontend.get()});
    if (e.frontend->node_port) ++node_ports_;
    if (e.frontend->external) ++external_ports_;
  }
}

void ServiceIndex::remove(const CompiledService& service) {
  erase(service.cluster_ip(), 0, 0);
  --cluster_ips_;
  for (const CompiledService::Entry& e : service.entries()) {
    erase(e.ip, e.port, e.proto);
    if (e.frontend->node_port) --node_ports_;
    if (e.frontend->external) --external_ports_;
  }
}

std::shared_ptr<const ServiceIndex> ServiceIndex::with_service(
    const CompiledService& service, const CompiledService* replaced) const {
  auto next = std::make_shared<ServiceIndex>(*this);
  if (replaced != nullptr) next->remove(*replaced);
  next->add(service);
  return next;
}

std::shared_ptr<const ServiceIndex> ServiceIndex::without_service(
    const CompiledService& service) const {
  auto next = std::make_shared<ServiceIndex>(*this);
  next->remove(service);
  next->resize_for(next->used_);
  return next;
}

}  // namespace podvs
