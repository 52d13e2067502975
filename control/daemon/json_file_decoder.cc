#include "control/daemon/json_file_decoder.h"

#include <stdexcept>

namespace podvs {

void JsonFileDecoder::fail(const std::string& what) const {
  throw std::runtime_error(kind_ + " " + path_ + " is corrupt: " + what + "; fix or " + remedy_);
}

JsonFileDecoder::json JsonFileDecoder::parse(const std::string& text, int64_t version) const {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    fail("it is not valid JSON (byte " + std::to_string(e.byte) + " of " +
         std::to_string(text.size()) + ")");
  }
  if (!root.is_object()) fail("the top level is not a JSON object");
  const json& found = field(root, "version", "the top level");
  // Refused rather than guessed: misread state would re-create ports or Services wrongly.
  if (!found.is_number_integer() || found.get<int64_t>() != version)
    throw std::runtime_error(kind_ + " " + path_ + " has version " + found.dump() +
                             " but this podvsd reads version " + std::to_string(version) +
                             " only; run the podvsd that wrote it, or " + remedy_);
  return root;
}

const JsonFileDecoder::json& JsonFileDecoder::field(const json& object, const char* key,
                                                    const std::string& where) const {
  if (!object.is_object()) fail(where + " is not an object");
  auto it = object.find(key);
  if (it == object.end()) fail(where + " has no \"" + key + "\" field");
  return *it;
}

const JsonFileDecoder::json& JsonFileDecoder::array(const json& object, const char* key,
                                                    const std::string& where) const {
  const json& value = field(object, key, where);
  if (!value.is_array()) fail(std::string("\"") + key + "\" is not an array");
  return value;
}

std::string JsonFileDecoder::string(const json& object, const char* key,
                                    const std::string& where) const {
  const json& value = field(object, key, where);
  if (!value.is_string()) fail(where + "." + key + " is not a string");
  return value.get<std::string>();
}

bool JsonFileDecoder::boolean(const json& object, const char* key, const std::string& where) const {
  const json& value = field(object, key, where);
  if (!value.is_boolean()) fail(where + "." + key + " is not true or false");
  return value.get<bool>();
}

uint64_t JsonFileDecoder::number(const json& object, const char* key, const std::string& where,
                                 uint64_t max) const {
  const json& value = field(object, key, where);
  if (!value.is_number_unsigned() || value.get<uint64_t>() > max)
    fail(where + "." + key + " is not a whole number in 0.." + std::to_string(max));
  return value.get<uint64_t>();
}

Ipv4 JsonFileDecoder::ipv4(const json& object, const char* key, const std::string& where) const {
  const std::string text = string(object, key, where);
  auto ip = parse_ipv4(text);
  if (!ip) fail(where + "." + key + " \"" + text + "\" is not an IPv4 address");
  return *ip;
}

MacAddr JsonFileDecoder::mac(const json& object, const char* key, const std::string& where) const {
  const std::string text = string(object, key, where);
  auto mac = MacAddr::parse(text);
  if (!mac) fail(where + "." + key + " \"" + text + "\" is not a MAC address");
  return *mac;
}

}  // namespace podvs
