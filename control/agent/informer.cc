#include "control/agent/informer.h"

#include <cstdio>

#include "base/log.h"

namespace podvs::agent {

std::string with_query(const std::string& path, const std::string& query) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string url_encoded(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

Informer::Informer(KubeClient& client, std::string path, InformerHandler& handler,
                   InformerOptions options, AgentStats& stats)
    : client_(client),
      path_(std::move(path)),
      resource_(path_.substr(path_.find_last_of('/') + 1)),
      cache_(path_, handler, options.transform),
      options_(options),
      stats_(stats) {
  stats_.synced(resource_, false);
  stats_.objects(resource_, 0);
}

Informer::~Informer() { stop(); }

void Informer::start() {
  running_ = true;
  thread_ = std::thread([this] {
    run();
    running_ = false;
  });
}

void Informer::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Informer::pause(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, wait, [this] { return stop_.load(); });
}

// Every page, then one replace: the handler never sees half a list, and a relist after 410
// deletes what vanished only once the whole list is known.
void Informer::list() {
  std::vector<nlohmann::json> items;
  std::string continue_token, version;
  do {
    std::string query = "limit=" + std::to_string(options_.page_size);
    if (!continue_token.empty()) query += "&continue=" + url_encoded(continue_token);
    const nlohmann::json page = client_.get(with_query(path_, query));
    const auto meta = page.find("metadata");
    if (!page.is_object() || meta == page.end() || !meta->is_object())
      throw KubeError(200, "", "LIST " + path_ + ": the answer has no metadata");
    version = meta->value("resourceVersion", "");
    continue_token = meta->value("continue", "");
    if (const auto list = page.find("items"); list != page.end() && list->is_array())
      for (const auto& item : *list) items.push_back(cache_.stored(item));
    if (stop_) return;
  } while (!continue_token.empty());
  if (version.empty())
    throw KubeError(200, "", "LIST " + path_ + ": the answer has no resourceVersion");
  cache_.replace(items, version);
  stats_.listed(resource_, listed_once_);
  stats_.objects(resource_, cache_.size());
  stats_.synced(resource_, true);
  listed_once_ = true;
  PODVS_LOG(info, "%s: listed %zu objects at resourceVersion %s", path_.c_str(), items.size(),
            version.c_str());
}

WatchEnd Informer::watch() {
  const std::string query =
      "watch=1&allowWatchBookmarks=true&resourceVersion=" + url_encoded(cache_.resource_version()) +
      "&timeoutSeconds=" + std::to_string(options_.watch_timeout.count());
  bool expired = false;
  std::string error;
  // An ERROR event ends this watch: the server closes the stream after it anyway.
  std::atomic<bool> end{false};
  std::atomic<bool>& stop = stop_;
  client_.stream_lines(
      with_query(path_, query),
      [&](std::string_view line) {
        if (end) return;
        switch (cache_.apply_line(line)) {
          case LineOutcome::applied:
            stats_.objects(resource_, cache_.size());
            break;
          case LineOutcome::expired:
            expired = true;
            end = true;
            break;
          case LineOutcome::error:
            error = cache_.last_error();
            end = true;
            break;
        }
      },
      stop,
      // The server ends the watch at timeoutSeconds; allow it a margin before giving up on it.
      options_.watch_timeout + std::chrono::seconds(30));
  if (!error.empty()) return WatchEnd::error_event;
  return expired ? WatchEnd::expired : WatchEnd::closed;
}

void Informer::run() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  bool need_list = true;
  uint64_t progress = 0;
  // A watch that delivered events before it broke was a success: the back-off starts over.
  const auto progressed = [&] {
    return cache_.counters().events + cache_.counters().bookmarks != progress;
  };
  while (!stop_) {
    bool watching = false;  // a failure now ends a watch (rather than a LIST)
    try {
      if (need_list) {
        list();
        need_list = false;
        backoff.reset();
      }
      if (stop_) break;
      progress = cache_.counters().events + cache_.counters().bookmarks;
      watching = true;
      const WatchEnd end = watch();
      watching = false;
      if (stop_) break;
      stats_.watch_ended(resource_, end);
      if (end == WatchEnd::expired) {
        PODVS_LOG(warning, "%s: resourceVersion %s is too old (410 Gone): relisting", path_.c_str(),
                  cache_.resource_version().c_str());
        need_list = true;
        continue;
      }
      if (end == WatchEnd::error_event)
        throw KubeError(0, "", "WATCH " + path_ + ": ERROR event " + cache_.last_error());
      // The server ended the watch at its timeout: resume at once from the last version.
      backoff.reset();
    } catch (const KubeError& e) {
      if (stop_) break;
      if (watching)
        stats_.watch_ended(resource_, e.http_status == 410 ? WatchEnd::expired : WatchEnd::broken);
      if (e.http_status == 410) {
        // A LIST with an expired continue token, or a WATCH refused outright.
        PODVS_LOG(warning, "%s: %s: relisting", path_.c_str(), e.what());
        need_list = true;
        continue;
      }
      if (progressed()) backoff.reset();
      const auto wait = backoff.next();
      PODVS_LOG(warning, "%s: %s; retrying in %lld ms", path_.c_str(), e.what(),
                static_cast<long long>(wait.count()));
      if (!pause(wait)) break;
    } catch (const std::exception& e) {  // a bad token file, say: keep trying
      if (watching) stats_.watch_ended(resource_, WatchEnd::broken);
      const auto wait = backoff.next();
      PODVS_LOG(error, "%s: %s; retrying in %lld ms", path_.c_str(), e.what(),
                static_cast<long long>(wait.count()));
      if (!pause(wait)) break;
    }
  }
  PODVS_LOG(info, "%s: stopped (%llu events, %llu relists, %llu malformed, %llu unknown types)",
            path_.c_str(), static_cast<unsigned long long>(cache_.counters().events),
            static_cast<unsigned long long>(cache_.counters().relists),
            static_cast<unsigned long long>(cache_.counters().malformed),
            static_cast<unsigned long long>(cache_.counters().unknown_types));
}

}  // namespace podvs::agent
