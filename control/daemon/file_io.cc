#include "control/daemon/file_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace podvs {

void throw_system_error(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void make_directories(const std::string& dir, const std::string& what) {
  if (dir.empty()) throw std::runtime_error("the " + what + " path is empty");
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string path = dir.substr(0, slash);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      throw_system_error("cannot create " + what, path);
    if (slash == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw_system_error("cannot stat " + what, dir);
  if (!S_ISDIR(st.st_mode))
    throw std::runtime_error(what + " " + dir + " exists but is not a directory");
}

void write_all(int fd, const std::string& data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system_error("cannot write", path);
    done += static_cast<size_t>(n);
  }
}

std::string read_all(int fd, const std::string& path, const std::string& what) {
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system_error("cannot read " + what, path);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace podvs
