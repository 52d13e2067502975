// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, section 3.4): a lookup table of prime size M in which every backend owns
// almost exactly M/N slots, and which changes little when a backend comes or goes, so that a flow
// hashed onto the table keeps its backend on every node and across most endpoint changes.
//
// Use: the control thread builds a table per Service frontend with build_maglev_table() from its
// eligible backends' keys and publishes it in an immutable snapshot; workers only read it. A flow
// goes to backend table[maglev_flow_hash(tuple) % M]. Nothing here keeps state, so it is safe
// from any thread.
//
// Node independence: a backend's preference list depends only on its key, and the table is filled
// in ascending key order whatever order the keys are passed in, so every node that knows the same
// backend set builds the same key for every slot. A slot holds an index into the span passed in,
// not a key: the caller maps the index back to its backend (keys passed in a different order give
// different indexes for the same backends).
#pragma once

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include <cstdint>
#include <span>
#include <vector>

#include "vswitch/conn_tuple.h"
#include "vswitch/services/maglev_size.h"

namespace podvs {

// The lookup table for `backend_keys` (distinct; the Service passes (IPv4 << 16) | port in host
// byte order), `table_size` slots long, each holding the index in `backend_keys` of the backend
// that owns it. Each backend owns floor(M/N) or ceil(M/N) slots. Empty keys give an empty table.
// Throws std::invalid_argument unless table_size is a prime of at most kMaglevMaxTableSize and
// larger than the number of keys (at most kMaglevMaxBackends), and the keys are distinct.
std::vector<uint16_t> build_maglev_table(std::span<const uint64_t> backend_keys,
                                         uint32_t table_size);

// The hash that picks a flow's slot: the same for a 5-tuple on every node (a fixed seed, over
// the fields in host byte order so that the byte order of the machine does not matter).
inline uint32_t maglev_flow_hash(const ConnTuple& t) {
  constexpr uint32_t kSeed = 0x6d61676c;  // "magl": any fixed value, the same cluster wide
  const uint64_t addrs = (uint64_t{rte_be_to_cpu_32(t.src_ip)} << 32) | rte_be_to_cpu_32(t.dst_ip);
  const uint32_t ports =
      (uint32_t{rte_be_to_cpu_16(t.src_port)} << 16) | rte_be_to_cpu_16(t.dst_port);
  return rte_hash_crc_4byte(t.proto, rte_hash_crc_4byte(ports, rte_hash_crc_8byte(addrs, kSeed)));
}

}  // namespace podvs
