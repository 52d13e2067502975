#include "base/net_types.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace podvs {

std::string MacAddr::str() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddr mac;
  for (size_t i = 0; i < 6; ++i) {
    const char* first = text.data() + i * 3;
    if (i < 5 && first[2] != ':') return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(first, first + 2, value, 16);
    if (ec != std::errc{} || end != first + 2) return std::nullopt;
    mac.bytes[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

MacAddr MacAddr::from_ipv4(uint32_t ip) {
  return MacAddr{{0x0a, 0x58, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                  static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)}};
}

std::string ipv4_str(Ipv4 ip) {
  char buf[INET_ADDRSTRLEN];
  const uint32_t net = htonl(ip);
  inet_ntop(AF_INET, &net, buf, sizeof(buf));
  return buf;
}

std::optional<Ipv4> parse_ipv4(std::string_view text) {
  if (text.empty() || text.size() >= INET_ADDRSTRLEN) return std::nullopt;
  char buf[INET_ADDRSTRLEN] = {};
  text.copy(buf, text.size());
  uint32_t net = 0;
  if (inet_pton(AF_INET, buf, &net) != 1) return std::nullopt;
  return ntohl(net);
}

std::string Ipv4Prefix::str() const { return ipv4_str(network) + "/" + std::to_string(length); }

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ipv4(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const std::string_view len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc{} || end != len_text.data() + len_text.size() || len > 32 || len_text.empty())
    return std::nullopt;
  Ipv4Prefix prefix{*ip, static_cast<uint8_t>(len)};
  if ((*ip & prefix.mask()) != *ip) return std::nullopt;
  return prefix;
}

}  // namespace podvs
