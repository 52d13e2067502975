#include "cni-shim/cni_version.h"

#include <algorithm>
#include <charconv>

namespace podvs::cni {

std::optional<Version> parse_version(std::string_view text) {
  int parts[3] = {0, 0, 0};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    // from_chars would take a minus sign; semver numbers have none.
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    const auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc() || next == p) return std::nullopt;
    p = next;
  }
  if (p != end) return std::nullopt;
  return Version{parts[0], parts[1], parts[2]};
}

bool is_supported(std::string_view text) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), text) !=
         kSupportedVersions.end();
}

nlohmann::json version_info() {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto v : kSupportedVersions) versions.push_back(std::string(v));
  return {{"cniVersion", std::string(kLatestVersion)}, {"supportedVersions", versions}};
}

}  // namespace podvs::cni
