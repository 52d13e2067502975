// Plain value types for addresses, shared by the data path, the control plane and the tools.
// Everything here is host byte order unless the name says otherwise; the data path converts
// once at table-build time so the fast path compares in network order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace podvs {

struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  friend bool operator==(const MacAddr&, const MacAddr&) = default;
  std::string str() const;
  static std::optional<MacAddr> parse(std::string_view text);
  // Kubernetes' bridge plugin convention: 0a:58 followed by the IPv4 address, so a pod's MAC is
  // unique per address, locally administered and readable in captures.
  static MacAddr from_ipv4(uint32_t ip);
};

// An IPv4 address in host byte order.
using Ipv4 = uint32_t;

std::string ipv4_str(Ipv4 ip);
std::optional<Ipv4> parse_ipv4(std::string_view text);

struct Ipv4Prefix {
  Ipv4 network = 0;  // host byte order, host bits cleared
  uint8_t length = 0;

  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
  Ipv4 mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
  bool contains(Ipv4 ip) const { return (ip & mask()) == network; }
  Ipv4 broadcast() const { return network | ~mask(); }
  uint64_t size() const { return uint64_t{1} << (32 - length); }
  std::string str() const;
  // Accepts "a.b.c.d/n" with host bits zero; anything else is rejected (nullopt).
  static std::optional<Ipv4Prefix> parse(std::string_view text);
};

}  // namespace podvs
