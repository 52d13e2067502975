#include "cni-shim/device_info.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cni-shim/cni_error.h"

namespace podvs::cni {

nlohmann::json vhost_user_device_info(const std::string& socket_path, bool podvsd_serves) {
  return {{"type", "vhost-user"},
          {"version", "1.1.0"},
          {"vhost-user", {{"mode", podvsd_serves ? "client" : "server"}, {"path", socket_path}}}};
}

void write_device_info(const std::string& path, const nlohmann::json& info) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec)
    throw CniError(Code::io_failure,
                   "cannot create the directory of device-info file " + path + ": " + ec.message());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << info.dump(2) << "\n";
    out.close();
    if (!out) {
      fs::remove(temp, ec);
      throw CniError(Code::io_failure, "cannot write device-info file " + temp);
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw CniError(Code::io_failure,
                   "cannot rename " + temp + " to device-info file " + path + ": " + ec.message());
  }
}

void remove_device_info(const std::string& path) {
  std::error_code ignored;
  if (!path.empty()) std::filesystem::remove(path, ignored);
}

}  // namespace podvs::cni
