// What connection tracking knows a packet by: its IPv4 5-tuple in network byte order, and the NAT
// that maps a connection's original direction onto what its replies look like on the wire.
#pragma once

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <cstdint>

namespace podvs {

// ICMP echo request and reply carry their identifier in both ports: it is what NAT rewrites and
// what tells two pings between the same hosts apart.
struct ConnTuple {
  rte_be32_t src_ip = 0;
  rte_be32_t dst_ip = 0;
  rte_be16_t src_port = 0;
  rte_be16_t dst_port = 0;
  uint8_t proto = 0;

  friend bool operator==(const ConnTuple&, const ConnTuple&) = default;
};

// The tuple of a packet going the other way.
inline ConnTuple reversed(const ConnTuple& t) {
  return {t.dst_ip, t.src_ip, t.dst_port, t.src_port, t.proto};
}

// Field by field: the struct's padding bytes are indeterminate.
inline uint32_t conn_tuple_hash(const ConnTuple& t) {
  const uint64_t addrs = (uint64_t{t.src_ip} << 32) | t.dst_ip;
  const uint32_t ports = (uint32_t{t.src_port} << 16) | t.dst_port;
  return rte_hash_crc_4byte(t.proto, rte_hash_crc_4byte(ports, rte_hash_crc_8byte(addrs, 0)));
}

enum class ConnDir : uint8_t { original = 0, reply = 1 };

inline ConnDir opposite(ConnDir dir) {
  return dir == ConnDir::original ? ConnDir::reply : ConnDir::original;
}

// snat: the original direction leaves from addr:port (masquerade: the node IP and a port from
// SnatPortAllocator). dnat: the original direction goes to addr:port (a Service backend).
enum class NatKind : uint8_t { none, snat, dnat };

struct NatSpec {
  NatKind kind = NatKind::none;
  rte_be32_t addr = 0;
  rte_be16_t port = 0;  // ICMP echo: the identifier
};

// What a reply to `orig` looks like on the wire once `nat` has translated the original direction.
// SNAT of 10.244.1.2:5000 → 8.8.8.8:53 to 192.168.1.10:40001: 8.8.8.8:53 → 192.168.1.10:40001.
inline ConnTuple nat_reply_tuple(const ConnTuple& orig, const NatSpec& nat) {
  ConnTuple r = reversed(orig);
  const bool icmp = orig.proto == IPPROTO_ICMP;
  if (nat.kind == NatKind::snat) {
    r.dst_ip = nat.addr;
    r.dst_port = nat.port;
    if (icmp) r.src_port = nat.port;
  } else if (nat.kind == NatKind::dnat) {
    r.src_ip = nat.addr;
    r.src_port = nat.port;
    if (icmp) r.dst_port = nat.port;
  }
  return r;
}

}  // namespace podvs
