// The CNI error object (SPEC.md "Error") and the codes podvs-cni returns. Every failure a verb
// reports is a CniError thrown up to main, which prints it on stdout and exits non-zero.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace podvs::cni {

// Codes 0-99 are the spec's well-known errors; 100 and up are ours.
enum class Code : int {
  incompatible_version = 1,
  unsupported_field = 2,
  unknown_container = 3,
  invalid_environment = 4,
  io_failure = 5,
  decoding_failure = 6,
  invalid_network_config = 7,
  try_again_later = 11,
  // STATUS only.
  not_available = 50,
  not_available_limited_connectivity = 51,
  // podvsd refused the request (its message says why).
  podvsd_refused = 100,
  // The container already has an attachment on this network.
  already_attached = 101,
  // The node has no free address or port.
  node_full = 102,
  // CHECK found the attachment different from what ADD left.
  check_failed = 103,
};

class CniError : public std::runtime_error {
 public:
  CniError(Code code, const std::string& msg, std::string details = "")
      : std::runtime_error(msg), code_(code), details_(std::move(details)) {}
  Code code() const { return code_; }
  const std::string& details() const { return details_; }

 private:
  Code code_;
  std::string details_;
};

// The error object for stdout; cni_version is the configuration's when it was readable.
nlohmann::json error_json(const CniError& error, const std::string& cni_version);

}  // namespace podvs::cni
