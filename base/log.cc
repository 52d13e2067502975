#include "base/log.h"

#include <atomic>
#include <chrono>
#include <ctime>

namespace podvs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};

const char* g_program = "podvsd";

constexpr const char* kNames[] = {"error", "warning", "info", "debug"};

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

void set_log_program(const char* name) { g_program = name; }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void log_line(LogLevel level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::fprintf(stderr, "%s %s[%s] %.*s\n", stamp, g_program, kNames[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
}

}  // namespace podvs
