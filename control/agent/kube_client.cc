#include "control/agent/kube_client.h"

#include <curl/curl.h>

#include <mutex>
#include <vector>

namespace podvs::agent {
namespace {

std::once_flag g_curl_init;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The blob options copy the PEM text, so it need not outlive the setopt.
void set_blob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

// One transfer: what to send and where the answer goes.
struct KubeClient::Request {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string content_type;
  std::chrono::seconds timeout{};
  // Streaming: each complete line of a 2xx answer goes to on_line; an error answer is collected
  // in `response` so it can be decoded as a Status.
  const std::function<void(std::string_view)>* on_line = nullptr;
  const std::atomic<bool>* stop = nullptr;
  std::string response;
  std::string line_buffer;
  CURL* curl = nullptr;
  long status = 0;
};

KubeError http_error(const std::string& what, long status, const std::string& body) {
  std::string reason, message;
  const auto status_body = nlohmann::json::parse(body, nullptr, false);
  if (status_body.is_object() && status_body.value("kind", "") == "Status") {
    if (status_body.contains("reason") && status_body["reason"].is_string())
      reason = status_body["reason"].get<std::string>();
    if (status_body.contains("message") && status_body["message"].is_string())
      message = status_body["message"].get<std::string>();
  } else {
    message = body.substr(0, 200);
  }
  std::string text = what + ": HTTP " + std::to_string(status);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  if (status == 401)
    text += " (the token or client certificate is not accepted)";
  else if (status == 403)
    text += " (the agent's ClusterRole lacks this verb; see control/agent/rbac.json)";
  return KubeError(static_cast<int>(status), reason, text);
}

KubeClient::KubeClient(ClusterConfig config, KubeTimeouts timeouts, AgentStats& stats)
    : config_(std::move(config)), timeouts_(timeouts), stats_(stats) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!config_.token_file.empty()) token_file_ = std::make_unique<TokenFile>(config_.token_file);
}

KubeClient::~KubeClient() = default;

std::string KubeClient::perform(Request& request) {
  std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  if (!handle) throw KubeError(0, "", "cannot create a curl handle");
  CURL* curl = handle.get();
  request.curl = curl;
  const std::string url = config_.server + request.path;
  const std::string what = request.method + " " + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(timeouts_.connect.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "podvs-agent/" PODVS_VERSION);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  // TLS, as configured.
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.ca_pem.empty()) set_blob(curl, CURLOPT_CAINFO_BLOB, config_.ca_pem);
  if (!config_.client_cert_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
  if (!config_.client_cert_pem.empty())
    set_blob(curl, CURLOPT_SSLCERT_BLOB, config_.client_cert_pem);
  if (!config_.client_key_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  if (!config_.client_key_pem.empty()) set_blob(curl, CURLOPT_SSLKEY_BLOB, config_.client_key_pem);
  // Headers, the token among them (read again each time: it may have been rotated). The token
  // is read first: it may throw, and nothing must be allocated then.
  const std::string token = token_file_ ? token_file_->token() : config_.token;
  std::vector<std::string> lines = {"Accept: application/json"};
  if (!token.empty()) lines.push_back("Authorization: Bearer " + token);
  if (!request.content_type.empty()) lines.push_back("Content-Type: " + request.content_type);
  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  for (const auto& line : lines) {
    curl_slist* longer = curl_slist_append(header_list.get(), line.c_str());
    if (!longer) throw KubeError(0, "", "out of memory for HTTP headers");
    header_list.release();
    header_list.reset(longer);
  }
  curl_slist* headers = header_list.get();
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!request.body.empty() || request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &request);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t, size_t n, void* user) -> size_t {
        auto& r = *static_cast<Request*>(user);
        if (r.status == 0) curl_easy_getinfo(r.curl, CURLINFO_RESPONSE_CODE, &r.status);
        if (!r.on_line || r.status < 200 || r.status >= 300) {
          r.response.append(data, n);
          return n;
        }
        r.line_buffer.append(data, n);
        size_t start = 0;
        for (size_t nl; (nl = r.line_buffer.find('\n', start)) != std::string::npos;
             start = nl + 1) {
          if (nl > start) (*r.on_line)(std::string_view(r.line_buffer).substr(start, nl - start));
          if (r.stop && r.stop->load()) return 0;  // abort the transfer
        }
        r.line_buffer.erase(0, start);
        return n;
      });
  if (request.stop) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.stop);
    curl_easy_setopt(
        curl, CURLOPT_XFERINFOFUNCTION,
        +[](void* stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
          return static_cast<const std::atomic<bool>*>(stop)->load() ? 1 : 0;
        });
  }
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &request.status);
  if (request.stop && request.stop->load()) return {};
  if (rc != CURLE_OK) {
    stats_.api_error(0);
    const std::string detail = error_text[0] ? error_text : curl_easy_strerror(rc);
    // A stream that broke after a 2xx answer is an ordinary dropped watch, not a refusal.
    const bool dropped = request.on_line && request.status >= 200 && request.status < 300;
    throw KubeError(
        0, "",
        what + " to " + config_.server + ": " + (dropped ? "the stream broke: " : "") + detail);
  }
  if (request.status < 200 || request.status >= 300) {
    stats_.api_error(static_cast<int>(request.status));
    throw http_error(what, request.status, request.response);
  }
  // A clean end: whatever follows the last newline is a complete line too.
  if (request.on_line && !request.line_buffer.empty()) (*request.on_line)(request.line_buffer);
  return std::move(request.response);
}

nlohmann::json KubeClient::get(const std::string& path_and_query) {
  Request request;
  request.path = path_and_query;
  request.timeout = timeouts_.request;
  const std::string body = perform(request);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded())
    throw KubeError(static_cast<int>(request.status), "",
                    "GET " + path_and_query + ": the answer is not JSON");
  return json;
}

nlohmann::json KubeClient::merge_patch(const std::string& path, const nlohmann::json& patch) {
  Request request;
  request.method = "PATCH";
  request.path = path;
  request.body = patch.dump();
  request.content_type = "application/merge-patch+json";
  request.timeout = timeouts_.request;
  const std::string body = perform(request);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded())
    throw KubeError(static_cast<int>(request.status), "",
                    "PATCH " + path + ": the answer is not JSON");
  return json;
}

void KubeClient::stream_lines(const std::string& path_and_query,
                              const std::function<void(std::string_view)>& on_line,
                              const std::atomic<bool>& stop, std::chrono::seconds timeout) {
  Request request;
  request.path = path_and_query;
  request.on_line = &on_line;
  request.stop = &stop;
  request.timeout = timeout;
  perform(request);
}

}  // namespace podvs::agent
