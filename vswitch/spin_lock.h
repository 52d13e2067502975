// A test-and-test-and-set spin lock for the short critical sections workers share on the
// new-connection path (inserting a connection, remembering an affinity, recording a fragment).
// Workers are pinned busy-polling threads: sleeping in a futex (std::mutex) would cost a syscall
// and a wake-up where the holder releases within a few hundred cycles. DPDK's rte_spinlock would
// do the same job, but its x86 version is inline assembly that ThreadSanitizer cannot see, so
// the TSan build of the shared tables would report every section it guards as a race; this one
// is std::atomic and so is checked like the rest. Meets BasicLockable (std::lock_guard).
#pragma once

#include <rte_pause.h>

#include <atomic>

namespace podvs {

class SpinLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire))
      while (locked_.load(std::memory_order_relaxed)) rte_pause();
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace podvs
