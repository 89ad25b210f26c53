// The product behind a real Apache (Debian's apache2, event MPM) for integration
// tests: a real redis-server, the dev provider, and apache2 on a free loopback port
// including the shipped conf/apache snippets (only paths and ports substituted): the
// sign-in routes one of three ways, and oauth-fcgi-authz.conf (oauth-check as a
// mod_authnz_fcgi authorizer on 127.0.0.1:PORT) in front of tiny CGIs that print
// what they were given and of an HTTP echo behind ProxyPass. Everything Apache's
// user runs or reads is copied to a folder of its own under /tmp, so the checkout
// may be anywhere (a 0700 parent, spaces). Everything is stopped and removed by the
// destructor, pass or fail.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "browser.hpp"
#include "test_util.hpp"

namespace testutil {

// How Apache reaches the four sign-in programs.
enum class ApacheMode {
  proxy_fcgi, // conf/apache/oauth-fcgi-proxy.conf: the test starts them with --listen unix:
  fcgid,      // conf/apache/oauth-fcgi-fcgid.conf: mod_fcgid spawns them
  cgi,        // conf/apache/oauth-fcgi-cgi.conf: mod_cgid runs one per request
};

// Where the test site includes oauth-fcgi-authz.conf.
enum class ApacheSite {
  private_paths,    // <Location /private/> (the CGIs) and <Location /app> (the echo)
  whole_site,       // one <Location />, written after the sign-in snippet's Include: it
                    // overrides the snippet's "Require all granted" on the sign-in routes
  whole_site_first, // the same <Location />, written before the Include
};

class ApacheStack {
public:
  explicit ApacheStack(ApacheMode mode, ApacheSite site = ApacheSite::private_paths);
  ~ApacheStack();
  ApacheStack(const ApacheStack&) = delete;
  ApacheStack& operator=(const ApacheStack&) = delete;

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  RedisServer& redis() { return *redis_; }
  // A protected CGI: it answers "NAME=value" lines of REMOTE_USER, AUTH_EMAIL,
  // AUTH_LOGIN, AUTH_PROVIDER, HTTP_X_AUTH_{USER,EMAIL,LOGIN,PROVIDER} and REQUEST_URI.
  std::string protected_page() const { return base() + "/private/whoami"; }
  // A protected CGI: "NAME=value" of REMOTE_USER, AUTH_* and every HTTP_* with AUTH
  // in its name (HTTP_X_AUTH_*, ...), sorted by name.
  std::string protected_env() const { return base() + "/private/env"; }
  // Protected, and proxied (mod_proxy_http) to tests/support/http_test_server.py's
  // /echo: JSON of the request as the upstream received it, headers and all.
  std::string protected_upstream() const { return base() + "/app"; }
  // connect/github (query appended) -> dev provider (provider_extra appended, e.g.
  // "&dev_user=alice") -> callback, in browser b; returns the callback's answer, or
  // the first answer that was not a redirect.
  Page login(Browser& b, const std::string& query = "", const std::string& provider_extra = "");
  // Rewrites the programs' config with extra_config appended (more sections) and
  // restarts oauth-check on its port; sessions stay in Redis.
  void restart_check(const std::string& extra_config);
  // The programs' log lines (those Apache started included: they log to its ErrorLog)
  // and Apache's own error log.
  std::string logs() const;

private:
  void write_files();
  void write_program_config(const std::string& extra);
  void copy_programs();
  Process start_program(const std::string& name, const std::string& listen);
  void start_check();
  void start_programs();
  void start_apache();

  ApacheMode mode_;
  ApacheSite site_;
  // Under /tmp, not $TMPDIR: Apache's user must reach it, and $TMPDIR may be private
  // (pam_tmpdir's /tmp/user/<uid> is mode 0700).
  TempDir dir_{"/tmp"};
  std::unique_ptr<RedisServer> redis_;
  int port_, provider_port_, check_port_, upstream_port_;
  Process provider_, upstream_, apache_, check_;
  std::vector<Process> programs_; // the other four, in proxy_fcgi mode
};

} // namespace testutil
