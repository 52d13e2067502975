// Entering pods' network namespaces.
//
// Thread use: a network namespace belongs to a thread, not to the process, so ScopedNetns moves
// only the thread that constructs it, and must be destroyed on that same thread. It is meant for
// the daemon's control thread; data-path workers never change namespace.
#pragma once

#include <string>

namespace podvs {

// Moves the calling thread into the network namespace at `path` (/var/run/netns/NAME,
// /proc/PID/ns/net, ...) and back into the namespace it was in when the guard is destroyed.
class ScopedNetns {
 public:
  // Throws std::runtime_error naming `path` and the cause when it cannot be opened or entered.
  explicit ScopedNetns(const std::string& path);
  ~ScopedNetns();

  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  std::string path_;
  int home_fd_ = -1;  // the thread's namespace before entering `path_`
};

// True when `path` opens and is a network namespace (not another kind of namespace or a file).
bool netns_exists(const std::string& path);

}  // namespace podvs
