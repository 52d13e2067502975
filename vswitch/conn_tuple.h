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

// What the original direction's translation does: its source (masquerade: the node IP and a port
// from SnatPortAllocator), its destination (a Service backend), or both (a Service reached by its
// own backend or through a NodePort, whose replies must come back through this node). For ICMP
// echo the port is the identifier.
// Widest fields first: 16 bytes, so that a conntrack entry fits one cache line.
struct NatSpec {
  rte_be32_t src_addr = 0;
  rte_be32_t dst_addr = 0;
  rte_be16_t src_port = 0;
  rte_be16_t dst_port = 0;
  bool snat = false;
  bool dnat = false;

  bool any() const { return snat || dnat; }
};

inline NatSpec snat_spec(rte_be32_t addr, rte_be16_t port) {
  NatSpec n;
  n.snat = true;
  n.src_addr = addr;
  n.src_port = port;
  return n;
}

inline NatSpec dnat_spec(rte_be32_t addr, rte_be16_t port) {
  NatSpec n;
  n.dnat = true;
  n.dst_addr = addr;
  n.dst_port = port;
  return n;
}

// What a reply to `orig` looks like on the wire once `nat` has translated the original direction.
// SNAT of 10.244.1.2:5000 → 8.8.8.8:53 to 192.168.1.10:40001: 8.8.8.8:53 → 192.168.1.10:40001.
inline ConnTuple nat_reply_tuple(const ConnTuple& orig, const NatSpec& nat) {
  ConnTuple r = reversed(orig);
  const bool icmp = orig.proto == IPPROTO_ICMP;
  if (nat.dnat) {
    r.src_ip = nat.dst_addr;
    r.src_port = nat.dst_port;
    if (icmp) r.dst_port = nat.dst_port;
  }
  if (nat.snat) {
    r.dst_ip = nat.src_addr;
    r.dst_port = nat.src_port;
    if (icmp) r.src_port = nat.src_port;
  }
  return r;
}

}  // namespace podvs
