// Where the later fragments of a translated datagram go. Only the first fragment carries the
// ports that conntrack knows a connection by, so when it is translated its addresses are recorded
// here under what all fragments of one datagram share (RFC 791: source, destination, protocol and
// identification), and the fragments after it are translated the same way.
//
// Direct-mapped and fixed-size, allocated once: a newer datagram may evict an older one whose
// remaining fragments are then refused, as are fragments that arrive before their first one
// (podvs does not reassemble). The caller counts those.
//
// Concurrency: one map for all workers (SharedConnState), since a datagram's fragments may reach
// different workers (a multi-queue port spreads them by address only when it must; an uplink's
// RSS may hash the first fragment by its ports and the others by addresses). A slot is written
// and read under the spin lock of its stripe, and find() copies the translation out: only
// fragmented datagrams come here, and a critical section is one slot.
#pragma once

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "vswitch/spin_lock.h"

namespace podvs {

class FragmentMap {
 public:
  struct Translation {
    rte_be32_t src = 0;
    rte_be32_t dst = 0;
  };

  // `slots` a power of two; fragments of one datagram are expected within `lifetime_tsc`.
  FragmentMap(uint32_t slots, uint64_t lifetime_tsc)
      : slots_(slots),
        mask_(slots - 1),
        locks_(std::make_unique<StripeLock[]>(kStripes)),
        lifetime_(lifetime_tsc) {
    if (slots == 0 || (slots & (slots - 1)) != 0)
      throw std::invalid_argument("a fragment map needs a power-of-two number of slots");
  }

  // `ip` is the first fragment as it arrived, before translation.
  void remember(const rte_ipv4_hdr* ip, const Translation& to, uint64_t now) {
    const uint32_t slot = hash(ip) & mask_;
    const std::lock_guard guard(locks_[slot % kStripes].lock);
    Slot& s = slots_[slot];
    s = Slot{
        ip->src_addr, ip->dst_addr, ip->packet_id, ip->next_proto_id, true, now + lifetime_, to};
  }

  std::optional<Translation> find(const rte_ipv4_hdr* ip, uint64_t now) const {
    const uint32_t slot = hash(ip) & mask_;
    const std::lock_guard guard(locks_[slot % kStripes].lock);
    const Slot& s = slots_[slot];
    if (!s.used || now > s.deadline || s.src != ip->src_addr || s.dst != ip->dst_addr ||
        s.id != ip->packet_id || s.proto != ip->next_proto_id)
      return std::nullopt;
    return s.to;
  }

 private:
  struct Slot {
    rte_be32_t src = 0, dst = 0;
    rte_be16_t id = 0;
    uint8_t proto = 0;
    bool used = false;
    uint64_t deadline = 0;
    Translation to;
  };
  static uint32_t hash(const rte_ipv4_hdr* ip) {
    const uint64_t addrs = (uint64_t{ip->src_addr} << 32) | ip->dst_addr;
    return rte_hash_crc_4byte((uint32_t{ip->packet_id} << 8) | ip->next_proto_id,
                              rte_hash_crc_8byte(addrs, 0));
  }

  // Slot i is guarded by lock i % kStripes; each lock on its own cache line.
  static constexpr uint32_t kStripes = 64;
  struct alignas(RTE_CACHE_LINE_SIZE) StripeLock {
    SpinLock lock;
  };

  std::vector<Slot> slots_;
  uint32_t mask_;
  std::unique_ptr<StripeLock[]> locks_;
  uint64_t lifetime_;
};

}  // namespace podvs
