// Reading back a JSON file the daemon wrote (the pod state, one Service), with every error a
// sentence that names the file, the offending field and what the operator can do about it.
// Shared by state_store.cc and service_store.cc; control thread only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/net_types.h"

namespace podvs {

class JsonFileDecoder {
 public:
  using json = nlohmann::ordered_json;

  // `kind` names the file in errors ("state file"); `remedy` completes "fix or ..." and "run the
  // podvsd that wrote it, or ...".
  JsonFileDecoder(std::string kind, std::string path, std::string remedy)
      : kind_(std::move(kind)), path_(std::move(path)), remedy_(std::move(remedy)) {}

  [[noreturn]] void fail(const std::string& what) const;

  // The document in `text`, which must be a JSON object whose "version" is `version`.
  json parse(const std::string& text, int64_t version) const;

  const json& field(const json& object, const char* key, const std::string& where) const;
  const json& array(const json& object, const char* key, const std::string& where) const;
  std::string string(const json& object, const char* key, const std::string& where) const;
  bool boolean(const json& object, const char* key, const std::string& where) const;
  uint64_t number(const json& object, const char* key, const std::string& where,
                  uint64_t max) const;
  Ipv4 ipv4(const json& object, const char* key, const std::string& where) const;
  MacAddr mac(const json& object, const char* key, const std::string& where) const;

 private:
  std::string kind_, path_, remedy_;
};

}  // namespace podvs
