#include "cni-shim/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace podvs::cni {

Log::~Log() {
  if (file_) std::fclose(file_);
}

void Log::open(const std::string& path) {
  if (path.empty()) return;
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (!f) {
    line("cannot open logFile " + path + ": " + std::strerror(errno) + "; logging to stderr");
    return;
  }
  if (file_) std::fclose(file_);
  file_ = f;
}

void Log::line(const std::string& message) {
  char when[32] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::FILE* out = file_ ? file_ : stderr;
  // One fprintf per line keeps lines of parallel invocations whole in an O_APPEND file.
  std::fprintf(out, "%s podvs-cni[%d] %s: %s\n", when, static_cast<int>(::getpid()),
               context_.c_str(), message.c_str());
  std::fflush(out);
}

}  // namespace podvs::cni
