// podvs-cni's log: one line per event on stderr, or appended to the network's logFile. Never
// stdout, which belongs to the result or the error object.
#pragma once

#include <cstdio>
#include <string>

namespace podvs::cni {

class Log {
 public:
  Log() = default;
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends to path from now on; stays on stderr (and says why) if it cannot be opened.
  void open(const std::string& path);
  // Prefixes every line with the time, the process and this context ("ADD 4f3a...").
  void set_context(std::string context) { context_ = std::move(context); }
  void line(const std::string& message);

 private:
  std::FILE* file_ = nullptr;
  std::string context_;
};

}  // namespace podvs::cni
