// The whole product on loopback for integration tests: a real redis-server, the dev
// provider, the five programs on unix sockets, and nginx including the shipped
// conf/nginx/oauth-fcgi.conf with a /private/ location protected by the shipped
// oauth-fcgi-protect.conf in front of an echo upstream. Everything is stopped by the
// destructor, pass or fail.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "browser.hpp"
#include "test_util.hpp"

namespace testutil {

struct StackOptions {
  // In these three, @PROVIDER@ is replaced by the dev provider's base URL (provider()).
  std::string extra_config;    // appended to the generated config (more sections)
  std::string github_section;  // more lines inside [provider github] (access rules, ...)
  std::string dev_section;     // more lines inside [provider dev]
  std::string session_section; // e.g. "[session]\nidle_timeout = 2\n"
  std::string http_section = "[http]\nconnect_timeout_ms = 1000\ntimeout_ms = 1500\n";
  std::string limits_section = "[limits]\nmax_query_bytes = 2048\nmax_cookie_bytes = 2048\n";
  int threads = 4;
  std::vector<std::string> provider_args; // more dev_provider flags, e.g. {"--token-ttl", "3600"}
  // Also start the OpenID Connect servers of tests/oidc: node oidc-provider ([provider op],
  // type oidc) and the emulator ([provider google], [provider gitlab], [provider sso]).
  bool oidc = false;
  std::vector<std::string> op_args; // more op.mjs flags, e.g. {"--alg", "ES256"}
  // More [provider NAME] sections (in extra_config) whose callback the emulator's client
  // oidc-client:oidc-secret may be sent back to.
  std::vector<std::string> emulator_providers;
  // When set, nginx's server { } holds the shipped oauth-fcgi.conf and then these lines
  // instead of the default "/" and /private/ locations. Every conf/nginx/*.conf is copied,
  // only its socket paths changed, beside nginx.conf: `include nginx/oauth-fcgi-protect.conf;`.
  std::string nginx_site;
};

class Stack {
public:
  explicit Stack(StackOptions options = {});
  ~Stack();

  std::string base() const { return "http://127.0.0.1:" + std::to_string(nginx_port_); }
  std::string provider() const { return "http://127.0.0.1:" + std::to_string(provider_port_); }
  RedisServer& redis() { return *redis_; }
  // The default site's upstream: answers "user=<X-Auth-User> email=… provider=… uri=<request_uri>
  // login=… id=… name=…" for any path.
  std::string upstream() const { return "http://127.0.0.1:" + std::to_string(upstream_port_); }
  // The OIDC emulator (tests/oidc/emulator.mjs) and node oidc-provider; only with options.oidc.
  std::string oidc_emulator() const { return "http://127.0.0.1:" + std::to_string(emulator_port_); }
  std::string oidc_op() const { return "http://127.0.0.1:" + std::to_string(op_port_); }
  std::string emulator_call(const std::string& method, const std::string& path);
  // A counter of one emulator flavour ("google", "gitlab", "oidc") from its /_dev/stats
  // ("jwks", "refresh", "revoke", ...), or -1.
  int emulator_count(const std::string& flavor, const std::string& name);
  const std::string& dir() const { return dir_.path(); }
  // Every log line the programs wrote so far.
  std::string program_logs() const;
  // POST/GET to the dev provider's control API; returns the body.
  std::string provider_call(const std::string& method, const std::string& path);
  // A counter from the dev provider's /_dev/stats ("token", "user", ...).
  int provider_count(const std::string& name);
  // connect -> provider (following its own redirects) -> callback in browser b;
  // returns the callback's answer, or the first answer that was not a redirect.
  // provider_extra is appended to the authorize URL ("&dev_user=alice").
  Page login(Browser& b, const std::string& provider = "github", const std::string& query = "",
             const std::string& provider_extra = "");
  // Rewrites the config with changed extra_config, github_section, dev_section and
  // session_section, and restarts the five programs (Redis, and so sessions, stay).
  void reconfigure(const StackOptions& changed);
  // The pid of a running program ("callback" for oauth-callback), or -1.
  pid_t program_pid(const std::string& name) const;
  // The generated config file.
  std::string config_path() const { return dir_.file("oauth-fcgi.conf"); }

private:
  void start_programs();
  void start_nginx();
  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  void start_oidc();
  void write_config();
  void keep_for_leak_scan();
  std::string oidc_config_;
  int nginx_port_, upstream_port_, provider_port_, emulator_port_ = 0, op_port_ = 0;
  Process provider_, emulator_, op_;
  std::vector<Process> programs_;
  Process nginx_;
  StackOptions options_;
};

// Where every Stack leaves its logs and the secrets it used for the suite's leak scan.
inline std::string leak_scan_dir() {
  return bin_dir() + "/../leak-scan";
}

// A query parameter of a URL, still percent-encoded; "" when absent.
std::string query_value(const std::string& url, const std::string& name);

} // namespace testutil
