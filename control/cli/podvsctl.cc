// podvsctl: the operator's CLI over podvsd's gRPC API (control/api/proto/podvs.proto).
//
// Exit status: 0 on success, 1 when podvsd fails the request or cannot be reached (the reason on
// stderr, nothing on stdout), 2 for a command-line error.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "control/api/grpc_convert.h"
#include "control/cli/podvsctl_output.h"
#include "control/cli/service_args.h"
#include "podvs.grpc.pb.h"

namespace podvs {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string socket = "/run/podvs/podvsd.sock";
  bool json = false;
  double timeout_seconds = 10;
};

class Client {
 public:
  explicit Client(const GlobalOptions& options)
      : options_(options),
        stub_(v1::Podvs::NewStub(
            grpc::CreateChannel("unix:" + options.socket, grpc::InsecureChannelCredentials()))) {}

  template <typename Request, typename Response>
  Response call(grpc::Status (v1::Podvs::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                     Response*),
                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::duration<double>(options_.timeout_seconds)));
    Response response;
    check((stub_.get()->*rpc)(&context, request, &response));
    return response;
  }

 private:
  void check(const grpc::Status& status) const {
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        return;
      case grpc::StatusCode::UNAVAILABLE:
        throw std::runtime_error("cannot reach podvsd at " + options_.socket + ": " +
                                 status.error_message() + unreachable_hint());
      case grpc::StatusCode::DEADLINE_EXCEEDED: {
        std::ostringstream message;
        message << "podvsd at " << options_.socket << " did not answer within "
                << options_.timeout_seconds << " s (see --timeout)";
        throw std::runtime_error(message.str());
      }
      default:
        throw std::runtime_error(status.error_message());
    }
  }

  std::string unreachable_hint() const {
    if (::access(options_.socket.c_str(), R_OK | W_OK) != 0 && errno == EACCES)
      return " (the socket is root only: run podvsctl as root)";
    return " (is podvsd running?)";
  }

  const GlobalOptions& options_;
  std::unique_ptr<v1::Podvs::Stub> stub_;
};

template <typename T>
T decoded(Result<T> result) {
  if (!result.is_ok())
    throw std::runtime_error("cannot read podvsd's answer: " + result.error.message);
  return std::move(*result.value);
}

std::string json_text(const nlohmann::json& j) { return j.dump(2) + "\n"; }

// Each command builds its whole output before anything is printed, so that a failure leaves
// stdout empty.
using Command = std::function<std::string(Client&)>;

// Storage the parser writes into; it outlives the parse and the command.
struct CommandLine {
  GlobalOptions global;
  PodSpec spec;
  std::string kind = "tap";
  std::string id;
  bool clear = false;
  bool recent = false;
  double interval = 1.0;
  unsigned iterations = 0;
  RemoteNodeSpec node;
  std::string flannel_backend_data, flannel_public_ip;
  ServiceArgs service;
  std::string file;
  // --owner of a delete or list: unset names every owner, "" an operator's.
  std::string owner;
  std::optional<std::string> owner_filter;
  Command command;
};

// Declares --owner on a delete or list command; `owner_filter` is set only when it is given.
CLI::Option* add_owner_filter(CLI::App& command, CommandLine& cl, const std::string& help) {
  return command.add_option("--owner", cl.owner, help);
}

void take_owner_filter(const CLI::Option* option, CommandLine& cl) {
  if (option->count() > 0) cl.owner_filter = cl.owner;
}

template <typename Request>
void set_owner(Request& request, const CommandLine& cl) {
  if (cl.owner_filter) request.set_owner(*cl.owner_filter);
}

std::string show_pod(const CommandLine& cl, const v1::PodInfo& answer) {
  const PodInfo pod = decoded(from_proto(answer));
  if (cl.global.json) return json_text(pod);
  std::ostringstream out;
  print_pod(out, pod);
  return out.str();
}

void add_pod_commands(CLI::App& app, CommandLine& cl) {
  auto* pod = app.add_subcommand("pod", "Add, delete and inspect pods")->require_subcommand(1);

  auto* add = pod->add_subcommand("add", "Attach a pod to the switch and print its addresses");
  add->add_option("--id", cl.spec.id, "Pod id, unique on the node (CNI: the container id)")
      ->required();
  add->add_option("--netns", cl.spec.netns, "Path of the pod's network namespace (tap pods)");
  add->add_option("--ifname", cl.spec.ifname, "Interface name inside the pod")
      ->capture_default_str();
  add->add_option("--kind", cl.kind, "Port kind")
      ->check(CLI::IsMember({"tap", "vhost-user"}))
      ->capture_default_str();
  add->add_flag("--vhost-server", cl.spec.vhost_server,
                "vhost-user: podvsd listens on the socket instead of the pod");
  add->add_option("--queues", cl.spec.queues,
                  "vhost-user: queue pairs the pod may enable (1 to 16), each polled by a worker")
      ->capture_default_str();
  add->add_option("--k8s-namespace", cl.spec.k8s_namespace, "Kubernetes namespace of the pod");
  add->add_option("--k8s-name", cl.spec.k8s_name, "Kubernetes name of the pod");
  add->add_option("--owner", cl.spec.owner, "Who manages the pod (podvs-cni sets cni:<network>)");
  add->callback([&cl] {
    cl.spec.kind = cl.kind == "vhost-user" ? PortKind::vhost_user : PortKind::tap;
    cl.command = [&cl](Client& client) {
      v1::AddPodRequest request;
      *request.mutable_spec() = to_proto(cl.spec);
      return show_pod(cl, client.call(&v1::Podvs::Stub::AddPod, request).pod());
    };
  });

  auto* del = pod->add_subcommand("del", "Detach a pod and release its address");
  del->add_option("--id", cl.id, "Pod id")->required();
  del->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      v1::DelPodRequest request;
      request.set_id(cl.id);
      client.call(&v1::Podvs::Stub::DelPod, request);
      return cl.global.json ? "" : "pod " + cl.id + " deleted\n";
    };
  });

  auto* get = pod->add_subcommand("get", "Show one pod");
  get->add_option("--id", cl.id, "Pod id")->required();
  get->callback([&cl] {
    cl.command = [&cl](Client& client) {
      v1::GetPodRequest request;
      request.set_id(cl.id);
      return show_pod(cl, client.call(&v1::Podvs::Stub::GetPod, request).pod());
    };
  });

  pod->add_subcommand("list", "List the pods attached to the switch")->callback([&cl] {
    cl.command = [&cl](Client& client) {
      const auto answer = client.call(&v1::Podvs::Stub::ListPods, v1::ListPodsRequest{});
      std::vector<PodInfo> pods;
      for (const auto& pod : answer.pods()) pods.push_back(decoded(from_proto(pod)));
      if (cl.global.json) return json_text(pods);
      std::ostringstream out;
      print_pod_table(out, pods);
      return out.str();
    };
  });
}

void add_port_commands(CLI::App& app, CommandLine& cl) {
  auto* port = app.add_subcommand("port", "Inspect the switch's ports")->require_subcommand(1);
  port->add_subcommand("list", "List ports with their counters")->callback([&cl] {
    cl.command = [&cl](Client& client) {
      const auto answer = client.call(&v1::Podvs::Stub::ListPorts, v1::ListPortsRequest{});
      std::vector<PortStats> ports;
      for (const auto& port : answer.ports()) ports.push_back(decoded(from_proto(port)));
      if (cl.global.json) return json_text(ports);
      std::ostringstream out;
      print_port_table(out, ports);
      return out.str();
    };
  });
}

void add_stats_command(CLI::App& app, CommandLine& cl) {
  auto* stats = app.add_subcommand("stats", "Show worker, port and drop counters");
  stats->add_flag("--clear", cl.clear, "Reset all counters to zero instead of showing them");
  stats->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      if (cl.clear) {
        client.call(&v1::Podvs::Stub::ClearStats, v1::ClearStatsRequest{});
        return cl.global.json ? "" : "statistics cleared\n";
      }
      const SwitchStats stats = decoded(
          from_proto(client.call(&v1::Podvs::Stub::GetStats, v1::GetStatsRequest{}).stats()));
      if (cl.global.json) return json_text(stats);
      std::ostringstream out;
      print_stats(out, stats);
      return out.str();
    };
  });
}

void add_drops_command(CLI::App& app, CommandLine& cl) {
  auto* drops =
      app.add_subcommand("drops", "Show drops by pod and reason, or the last dropped packets");
  drops->add_flag("--recent", cl.recent, "The last packets each worker dropped, headers decoded");
  drops->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      std::ostringstream out;
      if (cl.recent) {
        const auto answer =
            client.call(&v1::Podvs::Stub::ListRecentDrops, v1::ListRecentDropsRequest{});
        std::vector<RecentDrop> list;
        for (const auto& d : answer.drops()) list.push_back(from_proto(d));
        if (cl.global.json) return json_text(list);
        print_recent_drops(out, list);
        return out.str();
      }
      const auto answer = client.call(&v1::Podvs::Stub::ListPorts, v1::ListPortsRequest{});
      std::vector<PortStats> ports;
      for (const auto& port : answer.ports()) ports.push_back(decoded(from_proto(port)));
      if (cl.global.json) {
        nlohmann::json j = nlohmann::json::array();
        for (const PortStats& p : ports)
          for (const DropCount& d : p.drops)
            j.push_back({{"pod_id", p.pod_id},
                         {"port", p.name},
                         {"reason", d.reason},
                         {"packets", d.packets}});
        return json_text(j);
      }
      print_drops_table(out, ports);
      return out.str();
    };
  });
}

void add_top_command(CLI::App& app, CommandLine& cl) {
  auto* top = app.add_subcommand("top", "Live view of workers, ports and drops, refreshed");
  top->add_option("--interval", cl.interval, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0));
  top->add_option("--iterations", cl.iterations, "Stop after this many screens (0: until Ctrl-C)");
  top->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      auto snapshot = [&client] {
        return decoded(
            from_proto(client.call(&v1::Podvs::Stub::GetStats, v1::GetStatsRequest{}).stats()));
      };
      // Clearing the screen only makes sense on a terminal; piped output stays a plain log.
      const bool tty = isatty(STDOUT_FILENO) != 0;
      SwitchStats before = snapshot();
      auto last = std::chrono::steady_clock::now();
      for (unsigned i = 0; cl.iterations == 0 || i < cl.iterations; ++i) {
        std::this_thread::sleep_for(std::chrono::duration<double>(cl.interval));
        SwitchStats now = snapshot();
        const auto at = std::chrono::steady_clock::now();
        std::ostringstream screen;
        if (tty) screen << "\x1b[H\x1b[2J";
        print_top(screen, before, now, std::chrono::duration<double>(at - last).count());
        std::cout << screen.str() << (tty ? "" : "\n") << std::flush;
        before = std::move(now);
        last = at;
      }
      return "";
    };
  });
}

// Flannel's node annotations (backend-data JSON and public-ip) as a `node add` form.
void apply_flannel_annotations(CommandLine& cl) {
  if (cl.flannel_backend_data.empty()) return;
  nlohmann::json data;
  try {
    data = nlohmann::json::parse(cl.flannel_backend_data);
  } catch (const nlohmann::json::exception& e) {
    throw CLI::ValidationError("--flannel-backend-data", std::string("is not JSON: ") + e.what());
  }
  if (!data.is_object() || !data.contains("VtepMAC") || !data["VtepMAC"].is_string())
    throw CLI::ValidationError("--flannel-backend-data",
                               "needs a \"VtepMAC\" string, as in {\"VNI\":1,\"VtepMAC\":\"..\"}");
  cl.node.vtep_mac = data["VtepMAC"].get<std::string>();
  if (!cl.flannel_public_ip.empty()) cl.node.node_ip = cl.flannel_public_ip;
}

void add_node_commands(CLI::App& app, CommandLine& cl) {
  auto* node =
      app.add_subcommand("node", "Remote nodes of the VXLAN overlay")->require_subcommand(1);
  auto* add = node->add_subcommand("add", "Route a remote node's pod CIDR through VXLAN to it");
  add->add_option("--name", cl.node.name, "Node name")->required();
  add->add_option("--pod-cidr", cl.node.pod_cidr, "The pod CIDR the node owns")->required();
  add->add_option("--node-ip", cl.node.node_ip, "Its underlay address");
  add->add_option("--vtep-mac", cl.node.vtep_mac, "Its VTEP's MAC (flannel: the flannel.1 MAC)");
  add->add_option("--flannel-backend-data", cl.flannel_backend_data,
                  "Instead of --vtep-mac: the node's flannel.alpha.coreos.com/backend-data");
  add->add_option("--flannel-public-ip", cl.flannel_public_ip,
                  "Instead of --node-ip: the node's flannel.alpha.coreos.com/public-ip");
  add->add_option("--owner", cl.node.owner,
                  "Who manages the node (\"\" an operator); only its owner may replace it");
  add->callback([&cl] {
    apply_flannel_annotations(cl);
    cl.command = [&cl](Client& client) -> std::string {
      v1::AddNodeRequest request;
      *request.mutable_node() = to_proto(cl.node);
      const RemoteNodeSpec n = from_proto(client.call(&v1::Podvs::Stub::AddNode, request).node());
      if (cl.global.json) return json_text(n);
      std::ostringstream out;
      print_node_table(out, {n});
      return out.str();
    };
  });
  auto* del = node->add_subcommand("del", "Stop routing to a remote node");
  del->add_option("--name", cl.id, "Node name")->required();
  auto* del_owner = add_owner_filter(*del, cl, "Delete it only if it has this owner");
  del->callback([&cl, del_owner] {
    take_owner_filter(del_owner, cl);
    cl.command = [&cl](Client& client) -> std::string {
      v1::DelNodeRequest request;
      request.set_name(cl.id);
      set_owner(request, cl);
      client.call(&v1::Podvs::Stub::DelNode, request);
      return cl.global.json ? "" : "node " + cl.id + " deleted\n";
    };
  });
  auto* list = node->add_subcommand("list", "List remote nodes and their next hops");
  auto* list_owner = add_owner_filter(*list, cl, "Only this owner's nodes (\"\": an operator's)");
  list->callback([&cl, list_owner] {
    take_owner_filter(list_owner, cl);
    cl.command = [&cl](Client& client) -> std::string {
      v1::ListNodesRequest request;
      set_owner(request, cl);
      const auto answer = client.call(&v1::Podvs::Stub::ListNodes, request);
      std::vector<RemoteNodeSpec> nodes;
      for (const auto& n : answer.nodes()) nodes.push_back(from_proto(n));
      if (cl.global.json) return json_text(nodes);
      std::ostringstream out;
      print_node_table(out, nodes);
      return out.str();
    };
  });
  auto* cidr = node->add_subcommand(
      "set-pod-cidr",
      "Replace this node's pod CIDR (only while no pod exists; a restart keeps it)");
  cidr->add_option("cidr", cl.id, "The new pod CIDR, e.g. 10.244.3.0/24")->required();
  cidr->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      v1::SetPodCidrRequest request;
      request.set_pod_cidr(cl.id);
      const NodeStatus status =
          from_proto(client.call(&v1::Podvs::Stub::SetPodCidr, request).status());
      if (cl.global.json) return json_text(status);
      std::ostringstream out;
      print_status(out, status);
      return out.str();
    };
  });
  node->add_subcommand("flannel-annotations",
                       "Print this node's overlay as flannel's node annotations")
      ->callback([&cl] {
        cl.command = [](Client& client) -> std::string {
          const NodeStatus status =
              from_proto(client.call(&v1::Podvs::Stub::GetStatus, v1::GetStatusRequest{}).status());
          if (status.node_ip.empty())
            throw std::runtime_error("this podvsd has no uplink: no overlay to announce");
          return flannel_annotations(status);
        };
      });
}

std::string show_services(const CommandLine& cl, const std::vector<ServiceSpec>& services) {
  if (cl.global.json) return json_text(services);
  std::ostringstream out;
  print_service_table(out, services);
  return out.str();
}

// Every line of a `service load` file parsed before anything is sent: a typo on line 9,000 must
// not leave 8,999 Services programmed. Lines are numbered from 1, as editors do.
std::vector<std::pair<size_t, ServiceSpec>> read_service_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
  constexpr size_t kMaxReported = 10;
  std::vector<std::pair<size_t, ServiceSpec>> services;
  std::vector<std::string> errors;
  size_t bad = 0;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    auto spec = parse_service_line(line);
    if (spec.is_ok()) {
      services.emplace_back(number, std::move(*spec.value));
      continue;
    }
    if (++bad <= kMaxReported)
      errors.push_back(file + ":" + std::to_string(number) + ": " + spec.error.message);
  }
  if (in.bad()) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
  if (bad == 0) return services;
  std::string message;
  for (const std::string& error : errors) message += (message.empty() ? "" : "\n") + error;
  if (bad > kMaxReported)
    message += "\n(and " + std::to_string(bad - kMaxReported) + " more bad lines)";
  throw std::runtime_error(message + "\nnothing was sent to podvsd");
}

void add_service_commands(CLI::App& app, CommandLine& cl) {
  auto* service = app.add_subcommand("service", "Kubernetes Services: ClusterIPs and NodePorts")
                      ->require_subcommand(1);
  auto* add = service->add_subcommand(
      "add", "Program a Service (adding an existing NS/NAME replaces it, endpoints included)");
  add_service_options(*add, cl.service);
  add->callback([&cl] {
    auto spec = service_from_args(cl.service);
    if (!spec.is_ok()) throw CLI::ValidationError(spec.error.message);
    cl.command = [&cl, spec = *spec.value](Client& client) {
      v1::AddServiceRequest request;
      *request.mutable_service() = to_proto(spec);
      const ServiceSpec added =
          decoded(from_proto(client.call(&v1::Podvs::Stub::AddService, request).service()));
      return show_services(cl, {added});
    };
  });

  auto* del = service->add_subcommand("del", "Stop serving a Service (an unknown one is no error)");
  del->add_option("service", cl.id, "NS/NAME of the Service")->required();
  auto* del_owner = add_owner_filter(*del, cl, "Delete it only if it has this owner");
  del->callback([&cl, del_owner] {
    take_owner_filter(del_owner, cl);
    auto ref = parse_service_ref(cl.id);
    if (!ref.is_ok()) throw CLI::ValidationError(ref.error.message);
    cl.command = [&cl, ref = *ref.value](Client& client) -> std::string {
      v1::DelServiceRequest request;
      request.set_namespace_(ref.first);
      request.set_name(ref.second);
      set_owner(request, cl);
      client.call(&v1::Podvs::Stub::DelService, request);
      return cl.global.json ? "" : "service " + cl.id + " deleted\n";
    };
  });

  auto* list = service->add_subcommand("list", "List Services, sorted by NS/NAME");
  auto* list_owner =
      add_owner_filter(*list, cl, "Only this owner's Services (\"\": an operator's)");
  list->callback([&cl, list_owner] {
    take_owner_filter(list_owner, cl);
    cl.command = [&cl](Client& client) {
      v1::ListServicesRequest request;
      set_owner(request, cl);
      const auto answer = client.call(&v1::Podvs::Stub::ListServices, request);
      std::vector<ServiceSpec> services;
      for (const auto& s : answer.services()) services.push_back(decoded(from_proto(s)));
      return show_services(cl, services);
    };
  });

  auto* load = service->add_subcommand(
      "load",
      "Program the Services of FILE: one line each with the arguments of `service add` (empty "
      "lines and lines starting with '#' are skipped). Every line is checked before any is sent");
  load->add_option("file", cl.file, "The file")->required();
  load->callback([&cl] {
    cl.command = [&cl](Client& client) -> std::string {
      const auto services = read_service_file(cl.file);
      const auto start = std::chrono::steady_clock::now();
      for (size_t i = 0; i < services.size(); ++i) {
        v1::AddServiceRequest request;
        *request.mutable_service() = to_proto(services[i].second);
        try {
          client.call(&v1::Podvs::Stub::AddService, request);
        } catch (const std::exception& e) {
          throw std::runtime_error(cl.file + ":" + std::to_string(services[i].first) + ": " +
                                   e.what() +
                                   " (services programmed before it: " + std::to_string(i) + ")");
        }
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = seconds > 0 ? static_cast<double>(services.size()) / seconds : 0;
      if (cl.global.json)
        return json_text(
            {{"programmed", services.size()}, {"seconds", seconds}, {"per_second", rate}});
      char text[128];
      std::snprintf(text, sizeof(text), "programmed %zu services in %.2f s (%.0f per second)\n",
                    services.size(), seconds, rate);
      return std::string(text);
    };
  });
}

void add_status_command(CLI::App& app, CommandLine& cl) {
  app.add_subcommand("status", "Show the node's pod CIDR, gateway and free capacity")
      ->callback([&cl] {
        cl.command = [&cl](Client& client) -> std::string {
          const NodeStatus status =
              from_proto(client.call(&v1::Podvs::Stub::GetStatus, v1::GetStatusRequest{}).status());
          if (cl.global.json) return json_text(status);
          std::ostringstream out;
          print_status(out, status);
          return out.str();
        };
      });
}

}  // namespace
}  // namespace podvs

int main(int argc, char** argv) {
  using namespace podvs;
  CommandLine cl;

  CLI::App app{"Inspect and drive podvsd, the podvs virtual switch.", "podvsctl"};
  // Global options are accepted after the subcommand too: `podvsctl pod list --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--socket", cl.global.socket, "podvsd's API socket")->capture_default_str();
  app.add_flag("--json", cl.global.json, "Print machine-readable JSON");
  app.add_option("--timeout", cl.global.timeout_seconds, "Seconds to wait for podvsd's answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_pod_commands(app, cl);
  add_node_commands(app, cl);
  add_service_commands(app, cl);
  add_port_commands(app, cl);
  add_stats_command(app, cl);
  add_status_command(app, cl);
  add_drops_command(app, cl);
  add_top_command(app, cl);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  try {
    Client client(cl.global);
    std::cout << cl.command(client);
  } catch (const std::exception& e) {
    std::cerr << "podvsctl: " << e.what() << '\n';
    return kExitFailed;
  }
  return 0;
}
