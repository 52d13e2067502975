// Hands work from API threads (gRPC handlers, the metrics scrape) to the control thread, the
// only writer of switch state, and waits for the answer. A multi-producer lock-free queue carries
// the requests; a semaphore wakes the control thread so it sleeps when there is nothing to do.
#pragma once

#include <boost/lockfree/queue.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <semaphore>

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
    wake_.release();
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
    (void)wake_.try_acquire_for(timeout);
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
  std::counting_semaphore<> wake_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace podvs
