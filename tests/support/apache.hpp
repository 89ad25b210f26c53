// The product behind a real Apache (Debian's apache2, event MPM) for integration
// tests: a real redis-server, the dev provider, and apache2 on a free loopback port
// including the shipped conf/apache snippets (paths pointed at the temp dir and the
// build): the sign-in routes one of three ways, and a /private/ location protected
// by oauth-check as a mod_authnz_fcgi authorizer on 127.0.0.1:PORT, in front of a
// tiny CGI that prints what it was given. Everything is stopped by the destructor,
// pass or fail.
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

class ApacheStack {
public:
  explicit ApacheStack(ApacheMode mode);
  ~ApacheStack();
  ApacheStack(const ApacheStack&) = delete;
  ApacheStack& operator=(const ApacheStack&) = delete;

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  RedisServer& redis() { return *redis_; }
  // The protected CGI: it answers "NAME=value" lines of REMOTE_USER, AUTH_EMAIL,
  // AUTH_LOGIN, AUTH_PROVIDER, HTTP_X_AUTH_{USER,EMAIL,LOGIN,PROVIDER} and REQUEST_URI.
  std::string protected_page() const { return base() + "/private/whoami"; }
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
  Process start_program(const std::string& name, const std::string& listen);
  void start_check();
  void start_programs();
  void start_apache();

  ApacheMode mode_;
  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  int port_, provider_port_, check_port_;
  Process provider_, apache_, check_;
  std::vector<Process> programs_; // the other four, in proxy_fcgi mode
};

} // namespace testutil
