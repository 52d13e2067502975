// The owner of a Service or remote node (ServiceSpec::owner, RemoteNodeSpec::owner) and the rules
// every request about one follows, defined once so that Services and nodes judge owners alike:
// only the owner replaces; a delete or list that names an owner touches only that owner's.
#pragma once

#include <optional>
#include <string>

namespace podvs {

// For messages: "\"podvs-agent\"", or "\"\" (an operator)".
inline std::string owner_text(const std::string& owner) {
  return owner.empty() ? "\"\" (an operator)" : "\"" + owner + "\"";
}

// A request's optional owner: none names every owner, else only that one ("" an operator).
inline bool owner_selected(const std::optional<std::string>& wanted, const std::string& owner) {
  return !wanted || *wanted == owner;
}

// "" when a request with owner `requested` may replace `what` (e.g. "node n2"), which `existing`
// owns; else the sentence refusing it.
inline std::string replace_refusal(const std::string& what, const std::string& existing,
                                   const std::string& requested) {
  if (existing == requested) return {};
  return what + " belongs to owner " + owner_text(existing) + " and this request's owner is " +
         owner_text(requested) + "; only its owner may replace it (or delete it first)";
}

// "" when a delete naming `requested` (none: any owner) may remove `what`, which `existing` owns;
// else the sentence refusing it.
inline std::string delete_refusal(const std::string& what, const std::string& existing,
                                  const std::optional<std::string>& requested) {
  if (owner_selected(requested, existing)) return {};
  return what + " belongs to owner " + owner_text(existing) + ", not to " + owner_text(*requested) +
         "; it was not deleted";
}

}  // namespace podvs
