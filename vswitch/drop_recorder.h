// Flight recorder of dropped packets: the last kDropRecords drops of one worker (time, port,
// reason, length and the first bytes of the frame), for `podvsctl drops --recent`.
//
// Writer: the owning worker, only when it drops a packet, so forwarding never pays for it; a
// record is one 64-byte copy and a few stores. Readers: the control thread, concurrently. Each
// slot is a seqlock: the writer makes the sequence odd, writes, then makes it even (release);
// a reader copies the slot between two acquire loads of the sequence and keeps the copy only if
// both are the same even number, so it never shows a half-written record.
#pragma once

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/drop_reason.h"
#include "ports/port_id.h"

namespace podvs {

inline constexpr uint32_t kDropRecords = 64;      // per worker, a power of two
inline constexpr uint32_t kDropRecordBytes = 64;  // Ethernet + IPv4 + L4 headers

struct DropRecord {
  uint64_t tsc = 0;
  PortId port = 0;
  DropReason reason = DropReason::runt_frame;
  uint16_t length = 0;    // the frame's length
  uint16_t captured = 0;  // bytes kept in `bytes`
  std::array<uint8_t, kDropRecordBytes> bytes{};
};

class DropRecorder {
 public:
  void record(const rte_mbuf* m, PortId port, DropReason reason) {
    Slot& s = slots_[next_++ & (kDropRecords - 1)];
    const uint64_t seq = s.seq.load(std::memory_order_relaxed);
    s.seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    s.record.tsc = rte_rdtsc();
    s.record.port = port;
    s.record.reason = reason;
    s.record.length = static_cast<uint16_t>(rte_pktmbuf_pkt_len(m));
    s.record.captured =
        static_cast<uint16_t>(std::min<uint32_t>(rte_pktmbuf_data_len(m), kDropRecordBytes));
    std::memcpy(s.record.bytes.data(), rte_pktmbuf_mtod(m, const uint8_t*), s.record.captured);
    s.seq.store(seq + 2, std::memory_order_release);
  }

  // Consistent copies of the records written so far, oldest first.
  std::vector<DropRecord> snapshot() const {
    std::vector<DropRecord> out;
    for (const Slot& s : slots_) {
      const uint64_t before = s.seq.load(std::memory_order_acquire);
      if (before == 0 || (before & 1) != 0) continue;
      DropRecord copy;
      std::memcpy(static_cast<void*>(&copy), &s.record, sizeof(copy));
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) == before) out.push_back(copy);
    }
    std::sort(out.begin(), out.end(),
              [](const DropRecord& a, const DropRecord& b) { return a.tsc < b.tsc; });
    return out;
  }

 private:
  struct alignas(RTE_CACHE_LINE_SIZE) Slot {
    std::atomic<uint64_t> seq{0};
    DropRecord record;
  };
  std::array<Slot, kDropRecords> slots_{};
  uint32_t next_ = 0;  // worker only
};

}  // namespace podvs
