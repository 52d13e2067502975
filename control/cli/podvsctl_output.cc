#include "control/cli/podvsctl_output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>

#include "control/api/service_spec.h"
#include "control/cli/service_args.h"

namespace podvs {
namespace {

using Row = std::vector<std::string>;

// Column widths follow the widest cell; two spaces between columns, as kubectl does.
void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  auto print_row = [&](const Row& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << '\n';
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

void print_key_values(std::ostream& out, const std::vector<Row>& lines) {
  size_t width = 0;
  for (const auto& line : lines) width = std::max(width, line[0].size());
  for (const auto& line : lines)
    out << line[0] << std::string(width - line[0].size() + 1, ' ') << line[1] << '\n';
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string or_dash(int n) { return n < 0 ? "-" : std::to_string(n); }

// The worker of each rx queue, "0,1" (a queue nobody polls is "-"); one number for one queue.
std::string queue_workers_text(const PortStats& port) {
  if (port.queue_workers.size() < 2) return or_dash(port.worker);
  std::string text;
  for (int w : port.queue_workers) text += (text.empty() ? "" : ",") + or_dash(w);
  return text;
}

std::string fixed1(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", value);
  return buf;
}

std::string percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-"
                    : fixed1(100.0 * static_cast<double>(part) / static_cast<double>(whole)) + "%";
}

uint64_t total(const std::vector<DropCount>& drops) {
  uint64_t sum = 0;
  for (const auto& drop : drops) sum += drop.packets;
  return sum;
}

nlohmann::json drops_json(const std::vector<DropCount>& drops) {
  auto j = nlohmann::json::object();
  for (const auto& drop : drops) j[drop.reason] = drop.packets;
  return j;
}

void print_drop_table(std::ostream& out, const std::vector<DropCount>& drops) {
  std::vector<Row> rows;
  for (const auto& drop : drops) rows.push_back({drop.reason, std::to_string(drop.packets)});
  print_table(out, {"REASON", "PACKETS"}, rows);
}

// An agent reports every few seconds; one silent for longer than this has stopped or lost podvsd.
constexpr double kAgentConnectedS = 30;

std::string utc_time(int64_t unix_s) {
  const std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hex64(uint64_t value) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

std::string agent_summary(const AgentSeen& agent) {
  const AgentReport& r = agent.report;
  const auto age = std::to_string(static_cast<int64_t>(agent.report_age_s));
  std::string text = agent.report_age_s <= kAgentConnectedS ? "connected (report " + age + "s ago)"
                                                            : "stale (report " + age + "s ago)";
  text += r.synced ? ", synced" : ", not synced";
  text += r.last_sync_unix_s > 0 ? ", last sync " + utc_time(r.last_sync_unix_s) : ", never synced";
  text += ", " + std::to_string(r.services) + " services, " + std::to_string(r.nodes) +
          " nodes, pid " + std::to_string(r.pid);
  if (!r.version.empty()) text += ", version " + r.version;
  return text;
}

void to_json(nlohmann::json& j, const PodSpec& spec) {
  j = {{"id", spec.id},
       {"netns", spec.netns},
       {"ifname", spec.ifname},
       {"kind", port_kind_name(spec.kind)},
       {"vhost_server", spec.vhost_server},
       {"k8s_namespace", spec.k8s_namespace},
       {"k8s_name", spec.k8s_name},
       {"owner", spec.owner},
       {"queues", spec.queues}};
}

void to_json(nlohmann::json& j, const PodInfo& pod) {
  j = {{"spec", pod.spec},       {"ip", pod.ip},
       {"mac", pod.mac},         {"gateway_ip", pod.gateway_ip},
       {"mtu", pod.mtu},         {"port_name", pod.port_name},
       {"port_id", pod.port_id}, {"socket_path", pod.socket_path},
       {"status", pod.status}};
}

void to_json(nlohmann::json& j, const PortStats& port) {
  j = {{"name", port.name},
       {"port_id", port.port_id},
       {"kind", port_kind_name(port.kind)},
       {"pod_id", port.pod_id},
       {"link", port.link},
       {"rx_packets", port.rx_packets},
       {"rx_bytes", port.rx_bytes},
       {"tx_packets", port.tx_packets},
       {"tx_bytes", port.tx_bytes},
       {"worker", port.worker},
       {"queue_workers", port.queue_workers},
       {"drops", drops_json(port.drops)}};
}

void to_json(nlohmann::json& j, const WorkerStats& worker) {
  j = {{"worker", worker.worker},
       {"lcore", worker.lcore},
       {"cpu", worker.cpu},
       {"rx_packets", worker.rx_packets},
       {"tx_packets", worker.tx_packets},
       {"busy_cycles", worker.busy_cycles},
       {"idle_cycles", worker.idle_cycles},
       {"cycles_per_packet", worker.cycles_per_packet},
       {"rx_queues", worker.rx_queues},
       {"flow_cache_hits", worker.flow_cache_hits},
       {"flow_cache_misses", worker.flow_cache_misses},
       {"rx_bursts", worker.rx_bursts},
       {"conntrack_entries", worker.conntrack_entries},
       {"conntrack_created", worker.conntrack_created},
       {"conntrack_expired", worker.conntrack_expired},
       {"affinity_full", worker.affinity_full}};
}

void to_json(nlohmann::json& j, const SwitchStats& stats) {
  j = {{"workers", stats.workers},           {"ports", stats.ports},
       {"drops", drops_json(stats.drops)},   {"mbufs_total", stats.mbufs_total},
       {"mbufs_in_use", stats.mbufs_in_use}, {"tsc_hz", stats.tsc_hz}};
}

void print_pod(std::ostream& out, const PodInfo& pod) {
  const PodSpec& spec = pod.spec;
  std::vector<Row> lines = {
      {"pod:", spec.id},
      {"kubernetes:", spec.k8s_namespace.empty() && spec.k8s_name.empty()
                          ? "-"
                          : spec.k8s_namespace + "/" + spec.k8s_name},
      {"kind:", std::string(port_kind_name(spec.kind))},
      {"ip:", pod.ip},
      {"mac:", pod.mac},
      {"gateway:", pod.gateway_ip},
      {"mtu:", std::to_string(pod.mtu)},
      {"port:", or_dash(pod.port_name) + " (id " + or_dash(pod.port_id) + ")"},
      {"interface:", spec.ifname + (spec.netns.empty() ? "" : " in " + spec.netns)},
  };
  if (spec.kind == PortKind::vhost_user) {
    lines.push_back({"socket:", pod.socket_path + (spec.vhost_server ? " (podvsd listens)"
                                                                     : " (the pod listens)")});
    lines.push_back({"queues:", std::to_string(spec.queues) + " queue pair" +
                                    (spec.queues == 1 ? "" : "s")});
  }
  lines.push_back({"status:", pod.status});
  print_key_values(out, lines);
}

void print_status(std::ostream& out, const NodeStatus& status) {
  print_key_values(out, {{"podvsd:", status.version},
                         {"pod CIDR:", status.pod_cidr},
                         {"node address:", status.host_ip + " (host port)"},
                         {"gateway:", status.gateway_ip},
                         {"mtu:", std::to_string(status.mtu)},
                         {"addresses:", std::to_string(status.addresses_used) + " used of " +
                                            std::to_string(status.addresses_total)},
                         {"pods:", std::to_string(status.pods) + " of at most " +
                                       std::to_string(status.pods_max) + " (" +
                                       (status.pods_bound == "pod_cidr"
                                            ? std::string("bound by the pod CIDR's addresses")
                                            : status.pods_bound) +
                                       ")"},
                         {"ports:", std::to_string(status.ports_used) + " used of " +
                                        std::to_string(status.ports_max) + " (max_ports)"},
                         {"workers:", std::to_string(status.workers)},
                         {"instance:", hex64(status.instance_id)}});
  if (status.agents.empty()) out << "agent: none\n";
  for (const AgentSeen& agent : status.agents)
    out << "agent " << agent.report.name << ": " << agent_summary(agent) << '\n';
  if (status.node_ip.empty()) return;
  print_key_values(out, {{"underlay address:", status.node_ip},
                         {"uplink:", status.uplink + " (mtu " + std::to_string(status.uplink_mtu) +
                                         ", offload: " + status.uplink_offload + ")"},
                         {"VTEP MAC:", status.vtep_mac + " (announced " +
                                           std::to_string(status.uplink_announcements) +
                                           " times)"},
                         {"VXLAN:", "udp port " + std::to_string(status.vxlan_port) + ", vni " +
                                        std::to_string(status.vni)}});
}

void print_top(std::ostream& out, const SwitchStats& before, const SwitchStats& now,
               double seconds) {
  auto rate = [seconds](uint64_t a, uint64_t b) {
    return b >= a ? static_cast<double>(b - a) / seconds : 0.0;
  };
  auto human = [](double v) {
    char buf[32];
    if (v >= 1e6)
      std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
    else if (v >= 1e3)
      std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
    else
      std::snprintf(buf, sizeof(buf), "%.0f", v);
    return std::string(buf);
  };
  std::vector<Row> workers;
  for (const WorkerStats& w : now.workers) {
    WorkerStats b;
    for (const WorkerStats& x : before.workers)
      if (x.worker == w.worker) b = x;
    const uint64_t rx = w.rx_packets - b.rx_packets, busy = w.busy_cycles - b.busy_cycles;
    const uint64_t idle = w.idle_cycles - b.idle_cycles, bursts = w.rx_bursts - b.rx_bursts;
    workers.push_back({std::to_string(w.worker), std::to_string(w.cpu),
                       human(rate(b.rx_packets, w.rx_packets)),
                       human(rate(b.tx_packets, w.tx_packets)), percent(busy, busy + idle),
                       rx == 0 ? "-" : fixed1(static_cast<double>(busy) / rx),
                       bursts == 0 ? "-" : fixed1(static_cast<double>(rx) / bursts),
                       std::to_string(w.rx_queues)});
  }
  out << "workers (rates per second over the last " << fixed1(seconds) << " s)\n";
  print_table(out,
              {"WORKER", "CPU", "RX_PPS", "TX_PPS", "BUSY", "CYCLES/PKT", "PKTS/BURST", "RXQS"},
              workers);
  std::vector<Row> ports;
  for (const PortStats& p : now.ports) {
    PortStats b;
    for (const PortStats& x : before.ports)
      if (x.name == p.name) b = x;
    uint64_t drops = 0, drops_before = 0;
    for (const DropCount& d : p.drops) drops += d.packets;
    for (const DropCount& d : b.drops) drops_before += d.packets;
    ports.push_back({p.name, or_dash(p.pod_id), queue_workers_text(p),
                     human(rate(b.rx_packets, p.rx_packets)),
                     human(rate(b.tx_packets, p.tx_packets)),
                     human(8 * rate(b.rx_bytes, p.rx_bytes)),
                     human(8 * rate(b.tx_bytes, p.tx_bytes)), human(rate(drops_before, drops))});
  }
  out << "\nports\n";
  print_table(out, {"PORT", "POD", "WORKER", "RX_PPS", "TX_PPS", "RX_BPS", "TX_BPS", "DROPS/S"},
              ports);
  std::vector<Row> drops;
  for (const DropCount& d : now.drops) {
    uint64_t b = 0;
    for (const DropCount& x : before.drops)
      if (x.reason == d.reason) b = x.packets;
    if (d.packets != b) drops.push_back({d.reason, human(rate(b, d.packets))});
  }
  out << "\ndrops\n";
  if (drops.empty())
    out << "none\n";
  else
    print_table(out, {"REASON", "PER_SECOND"}, drops);
  out << "\nmbufs: " << now.mbufs_in_use << " in use of " << now.mbufs_total << "\n";
}

void print_drops_table(std::ostream& out, const std::vector<PortStats>& ports) {
  std::vector<Row> rows;
  for (const PortStats& p : ports)
    for (const DropCount& d : p.drops)
      rows.push_back({or_dash(p.pod_id), p.name, d.reason, std::to_string(d.packets)});
  if (rows.empty()) {
    out << "no drops\n";
    return;
  }
  print_table(out, {"POD", "PORT", "REASON", "PACKETS"}, rows);
}

namespace {

std::string mac_text(const uint8_t* b) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

std::string ip_text(const uint8_t* b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

uint16_t be16(const uint8_t* b) { return static_cast<uint16_t>(b[0] << 8 | b[1]); }

std::string describe_ipv4(const uint8_t* ip, size_t len) {
  if (len < 20) return "IPv4 (truncated)";
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  const uint8_t proto = ip[9];
  const char* name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : nullptr;
  std::string text = "IPv4 " + ip_text(ip + 12);
  const bool ports = (proto == 6 || proto == 17) && ihl >= 20 && len >= ihl + 4;
  if (ports) text += ":" + std::to_string(be16(ip + ihl));
  text += " > " + ip_text(ip + 16);
  if (ports) text += ":" + std::to_string(be16(ip + ihl + 2));
  text += " ";
  text += name != nullptr ? name : "proto " + std::to_string(proto);
  text += " ttl " + std::to_string(ip[8]);
  if ((ip[0] >> 4) != 4 || ihl < 20)
    text += " (bad version/IHL byte 0x" + [&] {
      char b[3];
      std::snprintf(b, sizeof(b), "%02x", ip[0]);
      return std::string(b);
    }() + ")";
  return text;
}

}  // namespace

std::string describe_frame(const std::string& bytes) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 14) return "runt (" + std::to_string(bytes.size()) + " bytes)";
  std::string text = mac_text(b + 6) + " > " + mac_text(b) + " ";
  const uint16_t type = be16(b + 12);
  if (type == 0x0800) return text + describe_ipv4(b + 14, bytes.size() - 14);
  if (type == 0x0806 && bytes.size() >= 42)
    return text + "ARP " + (be16(b + 20) == 1 ? "who-has " : "reply ") + ip_text(b + 38) +
           " tell " + ip_text(b + 28);
  char t[8];
  std::snprintf(t, sizeof(t), "0x%04x", type);
  return text + "ethertype " + t;
}

void print_recent_drops(std::ostream& out, const std::vector<RecentDrop>& drops) {
  if (drops.empty()) {
    out << "no drops recorded\n";
    return;
  }
  std::vector<Row> rows;
  for (const RecentDrop& d : drops) {
    const std::time_t secs = static_cast<std::time_t>(d.time_unix_ns / 1000000000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char when[32];
    std::strftime(when, sizeof(when), "%H:%M:%S", &tm);
    char millis[8];
    std::snprintf(millis, sizeof(millis), ".%03lld",
                  static_cast<long long>(d.time_unix_ns / 1000000 % 1000));
    rows.push_back({std::string(when) + millis, or_dash(d.pod_id), d.port, d.reason,
                    std::to_string(d.length), describe_frame(d.headers)});
  }
  print_table(out, {"TIME", "POD", "PORT", "REASON", "LEN", "HEADERS"}, rows);
}

void to_json(nlohmann::json& j, const RecentDrop& drop) {
  std::string hex;
  for (unsigned char c : drop.headers) {
    char b[3];
    std::snprintf(b, sizeof(b), "%02x", c);
    hex += b;
  }
  j = {{"time_unix_ns", drop.time_unix_ns},
       {"worker", drop.worker},
       {"port", drop.port},
       {"pod_id", drop.pod_id},
       {"reason", drop.reason},
       {"length", drop.length},
       {"headers_hex", hex},
       {"summary", describe_frame(drop.headers)}};
}

void to_json(nlohmann::json& j, const NodeStatus& status) {
  j = {{"version", status.version},
       {"pod_cidr", status.pod_cidr},
       {"gateway_ip", status.gateway_ip},
       {"host_ip", status.host_ip},
       {"mtu", status.mtu},
       {"addresses_total", status.addresses_total},
       {"addresses_used", status.addresses_used},
       {"ports_used", status.ports_used},
       {"ports_max", status.ports_max},
       {"pods", status.pods},
       {"pods_max", status.pods_max},
       {"pods_bound", status.pods_bound},
       {"workers", status.workers},
       {"node_ip", status.node_ip},
       {"vtep_mac", status.vtep_mac},
       {"vxlan_port", status.vxlan_port},
       {"vni", status.vni},
       {"uplink_mtu", status.uplink_mtu},
       {"uplink", status.uplink},
       {"uplink_offload", status.uplink_offload},
       {"uplink_announcements", status.uplink_announcements},
       {"instance_id", status.instance_id},
       {"agents", status.agents}};
}

void to_json(nlohmann::json& j, const AgentSeen& agent) {
  const AgentReport& r = agent.report;
  j = {{"name", r.name},
       {"version", r.version},
       {"pid", r.pid},
       {"synced", r.synced},
       {"last_sync_unix_s", r.last_sync_unix_s},
       {"services", r.services},
       {"nodes", r.nodes},
       {"report_age_s", agent.report_age_s},
       {"connected", agent.report_age_s <= kAgentConnectedS}};
}

void to_json(nlohmann::json& j, const RemoteNodeSpec& node) {
  j = {{"name", node.name},
       {"pod_cidr", node.pod_cidr},
       {"node_ip", node.node_ip},
       {"vtep_mac", node.vtep_mac},
       {"next_hop", node.next_hop},
       {"next_hop_mac", node.next_hop_mac},
       {"neighbour_state", node.neighbour_state},
       {"owner", node.owner}};
}

void print_node_table(std::ostream& out, const std::vector<RemoteNodeSpec>& nodes) {
  std::vector<Row> rows;
  for (const auto& n : nodes)
    rows.push_back({n.name, n.pod_cidr, n.node_ip, n.vtep_mac, n.next_hop, or_dash(n.next_hop_mac),
                    n.neighbour_state, or_dash(n.owner)});
  print_table(
      out,
      {"NAME", "POD_CIDR", "NODE_IP", "VTEP_MAC", "NEXT_HOP", "NEXT_HOP_MAC", "STATE", "OWNER"},
      rows);
}

void to_json(nlohmann::json& j, const ServiceSpec& service) {
  auto ports = nlohmann::json::array();
  for (const ServicePort& p : service.ports)
    ports.push_back({{"name", p.name},
                     {"protocol", service_proto_name(p.protocol)},
                     {"port", p.port},
                     {"target_port", p.target_port},
                     {"node_port", p.node_port}});
  auto endpoints = nlohmann::json::array();
  for (const ServiceEndpoint& e : service.endpoints) {
    auto ports = nlohmann::json::array();
    for (const EndpointPort& p : e.ports) ports.push_back({{"name", p.name}, {"port", p.port}});
    endpoints.push_back({{"ip", e.ip},
                         {"ready", e.ready},
                         {"serving", e.serving},
                         {"terminating", e.terminating},
                         {"ports", ports}});
  }
  j = {{"namespace", service.ns},
       {"name", service.name},
       {"cluster_ip", service.cluster_ip},
       {"external_ips", service.external_ips},
       {"ports", ports},
       {"endpoints", endpoints},
       {"client_ip_affinity", service.client_ip_affinity},
       {"affinity_timeout_s", service.affinity_timeout_s},
       {"external_traffic_policy", traffic_policy_name(service.external_traffic_policy)},
       {"internal_traffic_policy", traffic_policy_name(service.internal_traffic_policy)},
       {"owner", service.owner}};
}

void print_service_table(std::ostream& out, const std::vector<ServiceSpec>& services) {
  std::vector<Row> rows;
  for (const ServiceSpec& s : services) {
    std::string ports;
    for (const ServicePort& p : s.ports)
      ports += (ports.empty() ? "" : ",") + format_service_port(p);
    size_t ready = 0;
    for (const ServiceEndpoint& e : s.endpoints) ready += e.ready ? 1 : 0;
    std::string external;
    for (const std::string& ip : s.external_ips) external += (external.empty() ? "" : ",") + ip;
    rows.push_back(
        {service_key(s.ns, s.name), s.cluster_ip, or_dash(external), ports,
         std::to_string(ready) + " ready of " + std::to_string(s.endpoints.size()),
         s.client_ip_affinity ? "client-ip:" + std::to_string(s.affinity_timeout_s) : "-",
         traffic_policy_name(s.external_traffic_policy),
         traffic_policy_name(s.internal_traffic_policy), or_dash(s.owner)});
  }
  print_table(out,
              {"SERVICE", "CLUSTER_IP", "EXTERNAL_IPS", "PORTS", "ENDPOINTS", "AFFINITY",
               "EXTERNAL_POLICY", "INTERNAL_POLICY", "OWNER"},
              rows);
}

std::string flannel_annotations(const NodeStatus& status) {
  const std::string ip = status.node_ip.substr(0, status.node_ip.find('/'));
  const nlohmann::json backend = {{"VNI", status.vni}, {"VtepMAC", status.vtep_mac}};
  const nlohmann::json annotations = {{"flannel.alpha.coreos.com/backend-type", "vxlan"},
                                      {"flannel.alpha.coreos.com/backend-data", backend.dump()},
                                      {"flannel.alpha.coreos.com/kube-subnet-manager", "true"},
                                      {"flannel.alpha.coreos.com/public-ip", ip}};
  return annotations.dump(2) + "\n";
}

void print_pod_table(std::ostream& out, const std::vector<PodInfo>& pods) {
  std::vector<Row> rows;
  for (const auto& pod : pods) {
    const bool vhost = pod.spec.kind == PortKind::vhost_user;
    rows.push_back({pod.spec.id, std::string(port_kind_name(pod.spec.kind)), or_dash(pod.ip),
                    or_dash(pod.mac), or_dash(pod.port_name), or_dash(pod.spec.ifname),
                    std::to_string(pod.spec.queues),
                    or_dash(vhost ? pod.socket_path : pod.spec.netns), or_dash(pod.status)});
  }
  print_table(out,
              {"ID", "KIND", "IP", "MAC", "PORT", "IFNAME", "QUEUES", "NETNS/SOCKET", "STATUS"},
              rows);
}

void print_port_table(std::ostream& out, const std::vector<PortStats>& ports) {
  std::vector<Row> rows;
  for (const auto& port : ports)
    rows.push_back({port.name, or_dash(port.port_id), std::string(port_kind_name(port.kind)),
                    or_dash(port.pod_id), or_dash(port.link), queue_workers_text(port),
                    std::to_string(port.rx_packets), std::to_string(port.tx_packets),
                    std::to_string(total(port.drops))});
  print_table(out, {"PORT", "ID", "KIND", "POD", "LINK", "WORKER", "RX_PKTS", "TX_PKTS", "DROPS"},
              rows);
}

void print_stats(std::ostream& out, const SwitchStats& stats) {
  std::vector<Row> workers;
  for (const auto& w : stats.workers)
    workers.push_back({std::to_string(w.worker), std::to_string(w.lcore), std::to_string(w.cpu),
                       std::to_string(w.rx_packets), std::to_string(w.tx_packets),
                       percent(w.busy_cycles, w.busy_cycles + w.idle_cycles),
                       w.rx_packets == 0 ? "-" : fixed1(w.cycles_per_packet),
                       w.rx_bursts == 0 ? "-" : fixed1(double(w.rx_packets) / w.rx_bursts),
                       std::to_string(w.rx_queues), std::to_string(w.flow_cache_hits),
                       std::to_string(w.flow_cache_misses), std::to_string(w.conntrack_entries),
                       std::to_string(w.conntrack_created)});
  out << "workers\n";
  print_table(out,
              {"WORKER", "LCORE", "CPU", "RX_PKTS", "TX_PKTS", "BUSY", "CYCLES/PKT", "PKTS/BURST",
               "RXQS", "FLOW_HITS", "FLOW_MISSES", "CONNS", "CONNS_CREATED"},
              workers);

  std::vector<Row> ports;
  std::vector<Row> port_drops;
  for (const auto& p : stats.ports) {
    ports.push_back({p.name, or_dash(p.pod_id), std::to_string(p.rx_packets),
                     std::to_string(p.rx_bytes), std::to_string(p.tx_packets),
                     std::to_string(p.tx_bytes), std::to_string(total(p.drops))});
    for (const auto& drop : p.drops)
      port_drops.push_back({p.name, drop.reason, std::to_string(drop.packets)});
  }
  out << "\nports\n";
  print_table(out, {"PORT", "POD", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS"}, ports);
  if (!port_drops.empty()) {
    out << "\nport drops by reason\n";
    print_table(out, {"PORT", "REASON", "PACKETS"}, port_drops);
  }

  out << "\ndrops by reason (all ports)\n";
  if (stats.drops.empty())
    out << "none\n";
  else
    print_drop_table(out, stats.drops);

  out << "\nmbufs: " << stats.mbufs_in_use << " in use of " << stats.mbufs_total << " ("
      << percent(stats.mbufs_in_use, stats.mbufs_total) << ")\n";
}

}  // namespace podvs
