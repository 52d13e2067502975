// The CNI specification versions podvs-cni speaks, and the VERSION verb's answer.
#pragma once

#include <array>
#include <compare>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace podvs::cni {

struct Version {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const Version&) const = default;
};

inline constexpr std::array<std::string_view, 5> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0",
                                                                       "1.0.0", "1.1.0"};
inline constexpr std::string_view kLatestVersion = "1.1.0";

// Verbs and result fields appeared in these versions.
inline constexpr Version kCheckSince{0, 4, 0};
inline constexpr Version kNoIpVersionSince{1, 0, 0};  // ips[].version was dropped in 1.0.0
inline constexpr Version kStatusGcSince{1, 1, 0};     // STATUS, GC, interface mtu/socketPath

// "X.Y.Z" with decimal numbers; nullopt for anything else.
std::optional<Version> parse_version(std::string_view text);
bool is_supported(std::string_view text);
// {"cniVersion": "1.1.0", "supportedVersions": [...]}
nlohmann::json version_info();

}  // namespace podvs::cni
