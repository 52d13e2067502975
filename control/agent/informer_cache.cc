#include "control/agent/informer_cache.h"

#include <functional>

#include "base/log.h"

namespace podvs::agent {
namespace {

std::string object_version(const nlohmann::json& object) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

}  // namespace

std::string InformerCache::key_of(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  const auto name = meta->find("name");
  if (name == meta->end() || !name->is_string() || name->get<std::string>().empty()) return "";
  const auto ns = meta->find("namespace");
  if (ns != meta->end() && ns->is_string() && !ns->get<std::string>().empty())
    return ns->get<std::string>() + "/" + name->get<std::string>();
  return name->get<std::string>();
}

void InformerCache::malformed(const std::string& what) {
  ++counters_.malformed;
  if (logged_.insert(what).second)
    PODVS_LOG(warning, "%s: skipped %s (logged once)", resource_.c_str(), what.c_str());
}

// managedFields are the largest part of most objects and no controller here reads them.
nlohmann::json InformerCache::stored(nlohmann::json object) const {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return transform_ ? transform_(object) : object;
  meta->erase("managedFields");
  if (!transform_) return object;
  const auto version = meta->find("resourceVersion");
  nlohmann::json kept = transform_(object);
  if (version != meta->end() && kept.is_object()) {
    nlohmann::json& kept_meta = kept["metadata"];
    if (kept_meta.is_null()) kept_meta = nlohmann::json::object();
    if (kept_meta.is_object()) kept_meta["resourceVersion"] = *version;
  }
  return kept;
}

// A handler that throws must not stop the informer: the next event or relist gives it the
// state again.
void InformerCache::deliver(const char* what, const std::string& key,
                            const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    ++counters_.handler_errors;
    PODVS_LOG(error, "%s: %s of %s failed: %s", resource_.c_str(), what, key.c_str(), e.what());
  }
}

void InformerCache::replace(const std::vector<nlohmann::json>& items,
                            const std::string& resource_version) {
  ++counters_.relists;
  std::map<std::string, nlohmann::json> fresh;
  for (const auto& item : items) {
    const std::string key = key_of(item);
    if (key.empty()) {
      malformed("a listed object without metadata.name");
      continue;
    }
    fresh[key] = stored(item);
  }
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (fresh.count(it->first)) {
      ++it;
      continue;
    }
    const std::string key = it->first;
    const nlohmann::json last = std::move(it->second);
    it = objects_.erase(it);
    deliver("delete", key, [&] { handler_.on_delete(key, last); });
  }
  // Not a structured binding: clang before 16 (the fuzz build's) cannot capture one in a lambda.
  for (auto& entry : fresh) {
    const std::string& key = entry.first;
    const nlohmann::json& object = entry.second;
    auto old = objects_.find(key);
    if (old == objects_.end()) {
      objects_[key] = object;
      deliver("add", key, [&] { handler_.on_add(key, object); });
    } else if (object_version(old->second) != object_version(object)) {
      nlohmann::json before = std::exchange(old->second, object);
      deliver("update", key, [&] { handler_.on_update(key, before, object); });
    }
  }
  resource_version_ = resource_version;
  deliver("sync", "all", [&] { handler_.on_synced(); });
}

LineOutcome InformerCache::apply_line(std::string_view line) {
  const auto event = nlohmann::json::parse(line, nullptr, false);
  if (event.is_discarded() || !event.is_object()) {
    malformed("a watch line that is not a JSON object");
    return LineOutcome::applied;
  }
  for (const auto& [field, value] : event.items())
    if (field != "type" && field != "object") {
      ++counters_.unknown_fields;
      break;
    }
  const auto type_it = event.find("type");
  const auto object_it = event.find("object");
  if (type_it == event.end() || !type_it->is_string() || object_it == event.end() ||
      !object_it->is_object()) {
    malformed("a watch event without a type string and an object");
    return LineOutcome::applied;
  }
  const std::string type = type_it->get<std::string>();
  const nlohmann::json& object = *object_it;
  if (type == "ERROR") {
    const int code = object.value("code", 0);
    last_error_ = "code " + std::to_string(code) + " " + object.value("reason", "") + ": " +
                  object.value("message", "");
    return code == 410 ? LineOutcome::expired : LineOutcome::error;
  }
  // Every other event moves the resourceVersion, even one skipped below: it is not resent.
  if (const std::string rv = object_version(object); !rv.empty()) resource_version_ = rv;
  if (type == "BOOKMARK") {
    ++counters_.bookmarks;
    return LineOutcome::applied;
  }
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") {
    if (counters_.unknown_types++ == 0)
      PODVS_LOG(warning, "%s: skipped a watch event of unknown type %s (counted, logged once)",
                resource_.c_str(), type.c_str());
    return LineOutcome::applied;
  }
  const std::string key = key_of(object);
  if (key.empty()) {
    malformed("a watched object without metadata.name");
    return LineOutcome::applied;
  }
  ++counters_.events;
  auto cached = objects_.find(key);
  if (type == "DELETED") {
    // Deleted objects are told even when never seen: the handler's delete is idempotent.
    if (cached != objects_.end()) objects_.erase(cached);
    deliver("delete", key, [&] { handler_.on_delete(key, object); });
  } else if (cached == objects_.end()) {
    // ADDED, or MODIFIED of an object this cache missed: both are adds to the handler.
    const nlohmann::json& added = objects_[key] = stored(object);
    deliver("add", key, [&] { handler_.on_add(key, added); });
  } else {
    nlohmann::json before = std::exchange(cached->second, stored(object));
    deliver("update", key, [&] { handler_.on_update(key, before, cached->second); });
  }
  return LineOutcome::applied;
}

}  // namespace podvs::agent
