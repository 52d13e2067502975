// One resource followed from the API server, as client-go's reflector does: a paginated LIST,
// then a WATCH from the list's resourceVersion; a dropped or timed-out watch resumes from the
// last resourceVersion seen (bookmarks move it too), with exponential back-off on failures; a
// 410 Gone (the version was compacted away) relists and reconciles, so objects deleted meanwhile
// are deleted in the handler too. It runs on its own thread until stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "control/agent/agent_stats.h"
#include "control/agent/informer_cache.h"
#include "control/agent/kube_client.h"

namespace podvs::agent {

struct InformerOptions {
  unsigned page_size = 500;                 // LIST ?limit=
  std::chrono::seconds watch_timeout{300};  // WATCH ?timeoutSeconds=
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};  // client-go caps its back-off at 30 s too
  ObjectTransform transform;                     // what is kept of each object (informer_cache.h)
};

// Exponential back-off: each failure doubles the wait up to the cap; success resets it.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap)
      : initial_(initial), cap_(cap), next_(initial) {}
  std::chrono::milliseconds next() {
    const auto wait = next_;
    next_ = std::min(cap_, next_ * 2);
    return wait;
  }
  void reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, cap_, next_;
};

class Informer {
 public:
  // path: the collection, e.g. "/api/v1/nodes" or "/apis/discovery.k8s.io/v1/endpointslices".
  Informer(KubeClient& client, std::string path, InformerHandler& handler,
           InformerOptions options = {}, AgentStats& stats = AgentStats::none());
  ~Informer();

  void start();
  // Ends the running LIST or WATCH within about a second and joins the thread.
  void stop();
  const std::string& path() const { return path_; }
  // The metrics' label for it: the collection's last path segment ("nodes").
  const std::string& resource() const { return resource_; }
  // Whether its thread is in its loop: false before start() and after it ended (for /healthz).
  bool running() const { return running_; }

 private:
  void run();
  void list();
  // How the watch ended when it did not fail: closed, expired (410) or error_event.
  WatchEnd watch();
  // Sleeps unless stopped first; returns false when stopped.
  bool pause(std::chrono::milliseconds wait);

  KubeClient& client_;
  std::string path_;
  std::string resource_;
  InformerCache cache_;
  InformerOptions options_;
  AgentStats& stats_;
  bool listed_once_ = false;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

// path + "?" or "&" + query: for building list and watch URLs.
std::string with_query(const std::string& path, const std::string& query);
// Percent-encodes a query value (continue tokens are opaque base64 with '=' and '/').
std::string url_encoded(const std::string& value);

}  // namespace podvs::agent
