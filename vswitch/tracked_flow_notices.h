// Keeps every worker's flow cache coherent with the shared connection table. A worker may have
// cached a plain decision for a flow (a backend's packets to a client port, from before) that
// becomes the reply direction of a connection another worker creates; with one worker the
// creator overwrote its own cache entry with "tracked", but the worker that receives the replies
// has its own cache. So the creator announces the reply's flow key to every other worker, and
// each takes its notices at the start of every burst, after receiving it and before looking
// anything up: a reply in that burst was sent after the backend got the connection's first
// packet, which the creator sent after announcing, so the notice is always there first.
//
// Writers: any worker (announce, multi-producer); reader: the worker the inbox is for (take).
// Each inbox is a fixed-capacity Boost.Lockfree queue: no lock, no allocation. A full inbox is
// not an error: the announcer flags it, and its worker then forgets its whole flow cache (a
// cache miss per flow is the cost, never a wrong decision). Stale "tracked" decisions need no
// notice: the tracked stage routes a packet plainly when its connection is gone.
#pragma once

#include <rte_common.h>

#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <cstdint>
#include <memory>

#include "vswitch/packet_parse.h"

namespace podvs {

class TrackedFlowNotices {
 public:
  explicit TrackedFlowNotices(uint32_t workers)
      : workers_(workers), inboxes_(std::make_unique<Inbox[]>(workers)) {}

  // From worker `from`, to every other worker: `key`'s flow is tracked now.
  void announce(uint32_t from, const FlowKey& key) {
    for (uint32_t w = 0; w < workers_; ++w)
      if (w != from && !inboxes_[w].keys.push(key))
        inboxes_[w].overflowed.store(true, std::memory_order_release);
  }

  // Worker `worker`: calls tracked(key) for each notice, or forget_all() once when some were lost.
  template <typename Tracked, typename ForgetAll>
  void take(uint32_t worker, Tracked tracked, ForgetAll forget_all) {
    Inbox& inbox = inboxes_[worker];
    // Cleared before draining: a notice lost after this point sets it again for the next burst.
    if (inbox.overflowed.load(std::memory_order_relaxed) &&
        inbox.overflowed.exchange(false, std::memory_order_acquire))
      forget_all();
    inbox.keys.consume_all(tracked);
  }

 private:
  // Connections a worker may create between two of another worker's bursts, with room to spare.
  static constexpr size_t kInboxKeys = 1024;
  struct alignas(RTE_CACHE_LINE_SIZE) Inbox {
    boost::lockfree::queue<FlowKey, boost::lockfree::capacity<kInboxKeys>> keys;
    std::atomic<bool> overflowed{false};
  };

  const uint32_t workers_;
  std::unique_ptr<Inbox[]> inboxes_;
};

}  // namespace podvs
