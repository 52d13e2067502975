// The few POSIX file operations the state stores (state_store, service_store) need, with
// failures thrown as std::runtime_error naming the file and the system's reason.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

namespace podvs {

[[noreturn]] void throw_system_error(const std::string& what, const std::string& path);

// An fd closed on every path out, so an exception half-way through a save leaks nothing.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close() reports write-back errors on some file systems, so savers check it.
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// Creates `dir` and its missing parents (mode 0700) and checks that it is a directory; `what`
// names it in errors ("state directory").
void make_directories(const std::string& dir, const std::string& what);

// Writes all of `data`, retrying short writes and EINTR.
void write_all(int fd, const std::string& data, const std::string& path);

// Everything left to read from `fd`; `what` names the file in errors ("state file").
std::string read_all(int fd, const std::string& path, const std::string& what);

}  // namespace podvs
