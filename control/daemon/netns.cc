#include "control/daemon/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace podvs {

namespace {

// thread-self, not self: /proc/self/ns/net is the main thread's namespace, which need not be ours.
constexpr char kThreadNetns[] = "/proc/thread-self/ns/net";

int open_netns(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open network namespace " + path + ": " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

ScopedNetns::ScopedNetns(const std::string& path) : path_(path) {
  home_fd_ = open_netns(kThreadNetns);
  const int target_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target_fd < 0) {
    const int err = errno;
    close(home_fd_);
    throw std::runtime_error("cannot open network namespace " + path + ": " + std::strerror(err));
  }
  // Passing CLONE_NEWNET makes the kernel reject a path that is some other kind of namespace.
  const int rc = setns(target_fd, CLONE_NEWNET);
  const int err = errno;
  close(target_fd);
  if (rc != 0) {
    close(home_fd_);
    const std::string hint = err == EINVAL ? " (not a network namespace)" : "";
    throw std::runtime_error("cannot enter network namespace " + path + ": " + std::strerror(err) +
                             hint);
  }
}

ScopedNetns::~ScopedNetns() {
  // A thread stranded in a pod's namespace would configure the wrong interfaces from then on, and a
  // destructor cannot report failure, so stopping the daemon is the only safe outcome.
  if (setns(home_fd_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "podvs: cannot leave network namespace %s: %s\n", path_.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  close(home_fd_);
}

bool netns_exists(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool is_netns = ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
  close(fd);
  return is_netns;
}

}  // namespace podvs
