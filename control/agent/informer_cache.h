// The informer's state without the network: the objects last seen by key, the resourceVersion
// to watch from, and what each LIST result or WATCH line means for the handler. Informer
// (informer.h) feeds it from the API server; unit tests feed it lines.
//
// Not thread safe: one informer thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace podvs::agent {

// What a controller is told, in the order things happened. Keys are "namespace/name", or "name"
// for cluster-scoped objects (Nodes), as client-go's MetaNamespaceKeyFunc makes them.
class InformerHandler {
 public:
  virtual ~InformerHandler() = default;
  virtual void on_add(const std::string& key, const nlohmann::json& object) = 0;
  virtual void on_update(const std::string& key, const nlohmann::json& old_object,
                         const nlohmann::json& object) = 0;
  // `last` is the object's final state (the DELETED event's object, or the cached one when a
  // relist found it gone).
  virtual void on_delete(const std::string& key, const nlohmann::json& last) = 0;
  // After each (re)list has been delivered in full: the handler's view now equals the server's.
  virtual void on_synced() = 0;
};

struct InformerCounters {
  uint64_t events = 0;  // watch events applied (ADDED, MODIFIED, DELETED)
  uint64_t bookmarks = 0;
  uint64_t unknown_types = 0;   // events of a type this build does not know: skipped
  uint64_t unknown_fields = 0;  // event envelopes with fields besides type and object
  uint64_t malformed = 0;       // lines that are not JSON, objects without a name: skipped
  uint64_t handler_errors = 0;  // exceptions a handler threw (logged, the informer goes on)
  uint64_t relists = 0;
};

// What a watch line asks of the informer.
enum class LineOutcome {
  applied,  // an event (or a skipped one): go on reading
  expired,  // ERROR with code 410: the resourceVersion is too old; relist
  error,    // another ERROR event: re-watch from the last resourceVersion
};

// What the informer keeps of each object and hands its handler, as client-go's SetTransform: a
// controller that reads a few fields names them, so a cluster's worth of objects (every
// EndpointSlice, with every field the API server sends) is not held in full. It must be
// idempotent; metadata.resourceVersion is kept whatever it returns (the cache compares it).
using ObjectTransform = std::function<nlohmann::json(const nlohmann::json&)>;

class InformerCache {
 public:
  InformerCache(std::string resource, InformerHandler& handler, ObjectTransform transform = {})
      : resource_(std::move(resource)), handler_(handler), transform_(std::move(transform)) {}

  // A complete LIST (all pages' items, the list's resourceVersion): delivers adds, updates of
  // objects whose resourceVersion changed, deletes of cached objects absent from it, then
  // on_synced.
  void replace(const std::vector<nlohmann::json>& items, const std::string& resource_version);
  // One line of a WATCH stream. The ERROR event's message is kept for last_error().
  LineOutcome apply_line(std::string_view line);

  const std::string& resource_version() const { return resource_version_; }
  const InformerCounters& counters() const { return counters_; }
  const std::string& last_error() const { return last_error_; }
  size_t size() const { return objects_.size(); }

  // The key of an object, or "" when it has no metadata.name.
  static std::string key_of(const nlohmann::json& object);
  // What is kept of an object: without managedFields (no controller reads them), then
  // transformed. The informer applies it to each LIST page as it arrives, so a LIST does not
  // hold every page in full until the last.
  nlohmann::json stored(nlohmann::json object) const;

 private:
  void malformed(const std::string& what);
  void deliver(const char* what, const std::string& key, const std::function<void()>& call);

  std::string resource_;
  InformerHandler& handler_;
  ObjectTransform transform_;
  std::map<std::string, nlohmann::json> objects_;
  std::string resource_version_;
  InformerCounters counters_;
  std::string last_error_;
  std::set<std::string> logged_;  // each kind of malformed input is logged once
};

}  // namespace podvs::agent
