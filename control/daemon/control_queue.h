// Hands work from API threads (gRPC handlers, the metrics scrape) to the control thread, the
// only writer of switch state, and waits for the answer. A multi-producer lock-free queue carries
// the requests; a condition variable wakes the control thread so it sleeps when there is nothing
// to do. (Not std::counting_semaphore: libstdc++ 12's try_acquire_for spins instead of sleeping,
// which burned a whole core, the one the benchmark's generator shares with the control thread.)
#pragma once

#include <boost/lockfree/queue.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

namespace podvs {

class ControlQueue {
 public:
  ControlQueue() : queue_(64) {}
  ~ControlQueue() { drain_and_close(); }

  // Runs `fn` on the control thread and returns its result. Returns nullopt when the control
  // thread has stopped accepting work (shutdown).
  template <typename F>
  auto call(F fn) -> std::optional<decltype(fn())> {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> result = task->get_future();
    auto* item = new std::function<void()>([task] { (*task)(); });
    if (closed_.load() || !queue_.push(item)) {
      delete item;
      return std::nullopt;
    }
    {
      std::lock_guard lock(wake_mutex_);
      pending_ = true;
    }
    wake_.notify_one();
    // A request that lands after the control thread stopped is never run. Whoever sees the queue
    // closed drains it, destroying the tasks left in it, which breaks their promises: no caller
    // waits forever, and shutdown never waits for a caller.
    while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
      if (closed_.load()) drain_and_close();
    try {
      return result.get();
    } catch (const std::future_error&) {
      return std::nullopt;
    }
  }

  // Control thread: waits up to `timeout` for work, then runs everything queued.
  void run_pending(std::chrono::milliseconds timeout) {
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, timeout, [this] { return pending_; });
      pending_ = false;
    }
    std::function<void()>* item = nullptr;
    while (queue_.pop(item)) {
      (*item)();
      delete item;
    }
  }

  // Stops accepting work and drops whatever is queued (its callers get nullopt). Any thread may
  // call it, any number of times.
  void drain_and_close() {
    closed_.store(true);
    std::function<void()>* item = nullptr;
    while (queue_.pop(item)) delete item;
  }

 private:
  boost::lockfree::queue<std::function<void()>*> queue_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool pending_ = false;  // guarded by wake_mutex_
  std::atomic<bool> closed_{false};
};

}  // namespace podvs
