#include "cni-shim/cni_error.h"

namespace podvs::cni {

nlohmann::json error_json(const CniError& error, const std::string& cni_version) {
  nlohmann::json j = {
      {"cniVersion", cni_version},
      {"code", static_cast<int>(error.code())},
      {"msg", error.what()},
  };
  if (!error.details().empty()) j["details"] = error.details();
  return j;
}

}  // namespace podvs::cni
