// oauth-fetch: curl for an API behind the client-credentials grant. The token comes
// from a [client NAME] section through lib/token_client (shared in Redis by every
// process and host with cache = redis), its flags from lib/fetch_flags; this file
// picks the client, makes the call and prints.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config_load.hpp"
#include "crypto.hpp"
#include "fetch_flags.hpp"
#include "http_client.hpp"
#include "log.hpp"
#include "serve.hpp"
#include "store.hpp"
#include "text.hpp"
#include "token_client.hpp"
#include "url.hpp"

using namespace oauthfcgi;

namespace {

// Exit statuses; curl's where curl has one.
enum Exit {
  kOk = 0,           // 2xx (and 3xx: redirects are not followed)
  kConfig = 1,       // the config file, or --client, is wrong
  kUsage = 2,        // a bad flag
  kBadUrl = 3,       // URL malformed, or http:// to a host that is not loopback
  kUnreachable = 7,  // the resource could not be reached
  kHttpError = 22,   // the resource answered HTTP >= 400 (body still printed)
  kWriteFailed = 23, // stdout could not be written
  kTimeout = 28,     // the resource, the token endpoint or another process's renewal took too long
  kNoToken = 67,     // no token: the token endpoint refused or failed, or Redis is down
};

int fail(int status, const std::string& reason) {
  std::cerr << "oauth-fetch: " << reason << "\n";
  return status;
}

int exit_for(FetchStep step, const Error& e) {
  if (e.kind == ErrorKind::provider_timeout) return kTimeout;
  return step == FetchStep::token ? kNoToken : kUnreachable;
}

// What is printed: the answer with the token, should the server echo it, taken out.
bool print_answer(const FetchResult& r, bool include) {
  std::string out;
  if (include) {
    out += "HTTP " + std::to_string(r.response.status) + " " +
           status_text(static_cast<int>(r.response.status)) + "\r\n";
    for (const auto& [name, value] : r.response.headers)
      out += name + ": " + value + "\r\n";
    out += "\r\n";
  }
  out += r.response.body;
  out = redact_values(std::move(out), {r.token});
  return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
}

// The [client NAME] section: --client's, or the only one.
Result<const ClientConfig*> pick_client(const Config& config, const std::optional<std::string>& name,
                                        const std::string& path) {
  const ClientConfig* client = nullptr;
  if (name) {
    client = config.find_client(*name);
  } else if (config.clients.size() == 1) {
    client = &config.clients.front();
  }
  if (!client) {
    std::string known;
    for (const auto& c : config.clients)
      known += (known.empty() ? "" : ", ") + c.name;
    std::string which = name ? "no [client " + *name + "] section" : "which [client NAME]? (--client NAME)";
    return make_error(ErrorKind::config,
                      which + " in " + path + (known.empty() ? " (add one)" : " (it has: " + known + ")"));
  }
  if (client->cache == TokenCache::redis && config.server.secret.empty())
    return make_error(ErrorKind::config,
                      "[client " + client->name +
                          "] cache = redis needs [server] secret_file (the key that seals the shared token), "
                          "or use cache = memory");
  return client;
}

// The call the flags ask for; -d makes it a form POST unless told otherwise.
HttpRequest request_of(const FetchFlags& f) {
  HttpRequest request;
  request.url = f.url;
  request.method = f.method ? *f.method : f.data ? "POST" : "GET";
  request.headers = f.headers;
  if (f.data) {
    request.body = *f.data;
    bool typed = std::any_of(f.headers.begin(), f.headers.end(),
                             [](const Header& h) { return ascii_lowercase(h.first) == "content-type"; });
    if (!typed) request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  return request;
}

int run(int argc, char** argv) {
  auto parsed = parse_fetch_flags(argc, argv);
  if (!parsed) {
    std::cerr << "oauth-fetch: " << parsed.error().reason << " (see --help)\n" << kFetchUsage;
    return kUsage;
  }
  const FetchFlags& f = *parsed;
  if (f.help) {
    std::cout << fetch_help_text();
    return kOk;
  }
  if (f.version) {
    std::cout << "oauth-fetch " << kVersion << "\n";
    return kOk;
  }

  auto url = parse_url(f.url);
  if (!url.ok()) return fail(kBadUrl, "\"" + redact_url(f.url) + "\" is not an absolute http(s) URL");
  if (url->scheme == "http" && !is_loopback_host(url->host))
    return fail(kBadUrl, "refusing to send a token over http:// to " + url->host + " (use https://)");

  const std::string path = f.config ? *f.config : default_config_path();
  ConfigLoad load = load_config(path);
  for (const ConfigProblem& p : load.problems)
    std::cerr << "oauth-fetch: " << p.to_string() << "\n";
  if (!load.ok()) return kConfig;
  const Config& config = load.config;
  auto client = pick_client(config, f.client, path);
  if (!client.ok()) return fail(kConfig, client.error().reason);
  // Before anything is sent, the token request included: the token goes nowhere else.
  const auto& allowed = (*client)->allow_urls;
  if (!allowed.empty() && !url_under_any(f.url, allowed))
    return fail(kBadUrl, "refusing to send the token to " + redact_url(f.url) +
                             ": not under allow_urls of [client " + (*client)->name +
                             "] (add its prefix there in " + path + ")");
  http_global_init();
  Log log("oauth-fetch", f.verbose ? LogLevel::debug : LogLevel::error, LogFormat::text);
  CurlHttpClient http(config.http, std::string("oauth-fetch/") + kVersion);
  const Keys keys = derive_keys(config.server.secret);
  const LockTiming timing = lock_timing(config);
  std::unique_ptr<Store> store;
  std::unique_ptr<ClientTokenCache> cache;
  if ((*client)->cache == TokenCache::redis) {
    store = std::make_unique<RedisStore>(config.redis);
    cache = std::make_unique<RedisTokenCache>(*store, keys, **client, timing);
  } else {
    cache = std::make_unique<MemoryTokenCache>(timing.wait);
  }
  TokenClient tokens(**client, http, *cache, &log);

  HttpRequest request = request_of(f);
  FetchStep step = FetchStep::token;
  auto answer = tokens.fetch(std::move(request), &step);
  if (!answer.ok()) return fail(exit_for(step, answer.error()), answer.error().reason);
  if (!print_answer(*answer, f.include)) return fail(kWriteFailed, "cannot write to stdout");
  long status = answer->response.status;
  if (status >= 400)
    return fail(kHttpError, "HTTP " + std::to_string(status) + " " + status_text(static_cast<int>(status)) +
                                " from " + redact_url(f.url));
  return kOk;
}

} // namespace

int main(int argc, char** argv) {
  // A reader that goes away (| head) is exit 23, not a silent death by SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return fail(70, std::string("internal error: ") + e.what());
  }
}
