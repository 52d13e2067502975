// The arguments of `podvsctl service add`, shared by the command line and the lines of
// `podvsctl service load FILE`, so both accept exactly the same syntax:
//
//   NS/NAME --cluster-ip IP [--external-ip IP]... --port [NAME=]tcp|udp:PORT[:TARGET[:NODEPORT]]...
//           [--endpoint IP[:COND][@[NAME=]PORT,...]]... [--affinity client-ip[:TIMEOUT_S]]
//           [--external-traffic-policy cluster|local] [--internal-traffic-policy cluster|local]
//           [--owner OWNER]
//
// COND: ready (ready, serving), terminating (serving, terminating), terminating-not-serving
// (terminating only) or not-ready (none). After '@', the endpoint's own port for each Service
// port it names (NAME= omitted: the unnamed port), as an EndpointSlice gives them; a Service port
// it does not name uses TARGET. Every error is a sentence naming the option and value.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "control/api/control_plane.h"

namespace podvs {

// Storage CLI11 writes into; service_from_args turns it into a ServiceSpec.
struct ServiceArgs {
  std::string ref;  // NS/NAME
  std::string cluster_ip;
  std::vector<std::string> external_ips;
  std::vector<std::string> ports;
  std::vector<std::string> endpoints;
  std::string affinity;  // "" (none) or client-ip[:TIMEOUT_S]
  std::string external_policy = "cluster";
  std::string internal_policy = "cluster";
  std::string owner;
};

// Declares the positional NS/NAME and the options above on `app`, writing into `args`.
void add_service_options(CLI::App& app, ServiceArgs& args);

Result<std::pair<std::string, std::string>> parse_service_ref(const std::string& text);
Result<ServicePort> parse_service_port(const std::string& text);
Result<ServiceEndpoint> parse_service_endpoint(const std::string& text);
// The inverse of parse_service_port: "http=tcp:80:8080", "udp:53:53", "tcp:80:8080:30080".
std::string format_service_port(const ServicePort& port);

// Parses every argument, then runs validate_service: a Service that podvsd would refuse for
// itself (not for conflicts with others) fails here already.
Result<ServiceSpec> service_from_args(const ServiceArgs& args);
// One line of a `service load` file: the arguments of `service add`, separated by whitespace.
Result<ServiceSpec> parse_service_line(const std::string& line);

}  // namespace podvs
