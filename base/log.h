// Daemon log lines on stderr (journald/kubelet capture it): "podvsd[level] message" (another
// program sets its own name). Control plane only: never called from a worker's fast path.
#pragma once

#include <cstdio>
#include <string_view>

namespace podvs {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

void set_log_level(LogLevel level);
// The program named in each line; "podvsd" unless set (podvs-agent logs under its own name).
// Call once at start, before any thread logs.
void set_log_program(const char* name);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view message);

#define PODVS_LOG(level, ...)                                             \
  do {                                                                    \
    if (::podvs::log_enabled(::podvs::LogLevel::level)) {                 \
      char podvs_log_buf_[512];                                           \
      std::snprintf(podvs_log_buf_, sizeof(podvs_log_buf_), __VA_ARGS__); \
      ::podvs::log_line(::podvs::LogLevel::level, podvs_log_buf_);        \
    }                                                                     \
  } while (0)

}  // namespace podvs
