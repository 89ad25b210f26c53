#include "apache.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

namespace testutil {
namespace {

const char* const kSignInPrograms[] = {"connect", "callback", "profile", "logout", "api"};
const char* const kModules = "/usr/lib/apache2/modules";
// Apache started as root serves as this user (Debian's), and so do the programs
// mod_fcgid and mod_cgid start: what they open must be theirs to open.
const char* const kWebUser = "www-data";

// The config the programs read; @NAME@ are filled in by fill().
const char* const kProgramConfig = R"([server]
public_url = @BASE@
secret_file = secret

[redis]
url = @REDIS@

[http]
connect_timeout_ms = 1000
timeout_ms = 1500

[provider github]
type = github
client_id = github-client
client_secret_file = github.secret
authorize_url = @PROVIDER@/github/login/oauth/authorize
token_url = @PROVIDER@/github/login/oauth/access_token
userinfo_url = @PROVIDER@/github/api/user
emails_url = @PROVIDER@/github/api/user/emails
)";

// A server of its own: nothing from /etc/apache2, every path in the temp dir, quoted.
// The site includes the shipped snippets the way the README says; @PROTECT_FIRST@
// and @PROTECT@ are where it may include oauth-fcgi-authz.conf.
const char* const kApacheConfig = R"(ServerRoot "@DIR@"
ServerName 127.0.0.1
Listen 127.0.0.1:@PORT@
PidFile "@DIR@/apache.pid"
ErrorLog "@DIR@/apache-error.log"
LogLevel warn
DefaultRuntimeDir "@DIR@/run"
Mutex "file:@DIR@/run" default
@USER@@MODULES@@SERVER@
Include "@DIR@/apache/oauth-fcgi-authz-provider.conf"

<VirtualHost 127.0.0.1:@PORT@>
    DocumentRoot "@DIR@/htdocs"
@PROTECT_FIRST@    Include "@DIR@/apache/oauth-fcgi-@MODE@.conf"

    ScriptAlias /private/ "@DIR@/cgi-bin/"
    <Directory "@DIR@/cgi-bin">
        Require all granted
    </Directory>
    ProxyPass /app "http://127.0.0.1:@UPSTREAM@/echo"
@PROTECT@</VirtualHost>
)";

// Protecting what the site has, one location at a time...
const char* const kProtectPrivatePaths = R"(    <Location /private/>
        Include "@DIR@/apache/oauth-fcgi-authz.conf"
    </Location>
    <Location /app>
        Include "@DIR@/apache/oauth-fcgi-authz.conf"
    </Location>
)";

// ...or all of it (after the sign-in snippet's Include, this section overrides the
// snippet's own "Require all granted").
const char* const kProtectWholeSite = R"(    <Location />
        Include "@DIR@/apache/oauth-fcgi-authz.conf"
    </Location>
)";

// The protected page: what Apache handed it, one line each.
const char* const kWhoami = R"(#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'REMOTE_USER=%s\nAUTH_EMAIL=%s\nAUTH_LOGIN=%s\nAUTH_PROVIDER=%s\n' \
  "$REMOTE_USER" "$AUTH_EMAIL" "$AUTH_LOGIN" "$AUTH_PROVIDER"
printf 'HTTP_X_AUTH_USER=%s\nHTTP_X_AUTH_EMAIL=%s\nHTTP_X_AUTH_LOGIN=%s\nHTTP_X_AUTH_PROVIDER=%s\n' \
  "$HTTP_X_AUTH_USER" "$HTTP_X_AUTH_EMAIL" "$HTTP_X_AUTH_LOGIN" "$HTTP_X_AUTH_PROVIDER"
printf 'REQUEST_URI=%s\n' "$REQUEST_URI"
)";

// The other protected page: every variable about the user, whoever set it.
const char* const kEnv = R"(#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
env | grep -E '^(REMOTE_USER|AUTH_[A-Z0-9_]*|HTTP_[A-Z0-9_]*AUTH[A-Z0-9_]*)=' | LC_ALL=C sort
)";

// text with every key of `values` replaced by its value. Each key must be there: a
// shipped snippet that stops naming a path would otherwise stop being tested.
std::string fill(std::string text, const std::map<std::string, std::string>& values,
                 const std::string& what) {
  for (const auto& [key, value] : values) {
    size_t at = text.find(key);
    if (at == std::string::npos)
      throw std::runtime_error(what + " does not contain \"" + key + "\" any more");
    for (; at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  }
  return text;
}

// Running as root, Apache and the programs it starts are www-data: hand it path
// (group www-data, mode). Otherwise all of it runs as the one user who owns it.
void share_with_web_server(const std::string& path, mode_t mode) {
  if (geteuid() != 0) return;
  const group* g = getgrnam(kWebUser);
  if (!g)
    throw std::runtime_error(std::string("apache2 runs as ") + kWebUser + ", and there is no such group");
  if (chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0 || chmod(path.c_str(), mode) != 0)
    throw std::runtime_error("cannot hand " + path + " to " + kWebUser);
}

// Every folder on the way to path must let others through, or Apache's user cannot
// reach what the stack puts there.
void require_reachable_by_others(const std::string& path) {
  if (geteuid() != 0) return;
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH))
      throw std::runtime_error(dir + " is not searchable by others, so apache2's user cannot reach " + path +
                               ": make it so (chmod o+x) or give /tmp its usual mode 1777");
  }
}

// conf/apache/oauth-fcgi-<this>.conf for each ApacheMode, in its order.
std::string mode_name(ApacheMode mode) {
  static const char* const names[] = {"proxy", "fcgid", "cgi"};
  return names[static_cast<int>(mode)];
}

// The modules the test site needs (the CGIs, the proxied echo), those the authz
// snippets say, and those each way of reaching the programs says.
std::vector<std::string> modules(ApacheMode mode) {
  std::vector<std::string> m = {"mpm_event", "authz_core", "authn_core", "authz_user",  "alias",
                                "cgid",      "proxy",      "proxy_http", "authnz_fcgi", "headers"};
  if (mode == ApacheMode::proxy_fcgi) m.emplace_back("proxy_fcgi");
  if (mode == ApacheMode::fcgid) m.emplace_back("fcgid");
  if (mode == ApacheMode::cgi) m.emplace_back("env");
  return m;
}

} // namespace

ApacheStack::ApacheStack(ApacheMode mode, ApacheSite site)
    : mode_(mode), site_(site), redis_(std::make_unique<RedisServer>()), port_(free_port()),
      provider_port_(free_port()), check_port_(free_port()), upstream_port_(free_port()) {
  require_reachable_by_others(dir_.path());
  provider_ = Process({"/usr/bin/python3", source_dir() + "/tests/dev_provider/dev_provider.py", "--port",
                       std::to_string(provider_port_), "--client",
                       "github-client:github-secret:" + base() + "/auth/callback/github"},
                      {}, dir_.file("provider.log"));
  upstream_ = Process({"/usr/bin/python3", source_dir() + "/tests/support/http_test_server.py", "--port",
                       std::to_string(upstream_port_)},
                      {}, dir_.file("upstream.log"));
  write_files();
  if (!wait_until([&] { return port_open(provider_port_); }))
    throw std::runtime_error("dev provider did not start: " + read_file(dir_.file("provider.log")));
  if (!wait_until([&] { return port_open(upstream_port_); }))
    throw std::runtime_error("http_test_server.py did not start: " + read_file(dir_.file("upstream.log")));
  start_programs();
  start_apache();
}

ApacheStack::~ApacheStack() {
  apache_.stop();
  check_.stop();
  for (auto& p : programs_)
    p.stop();
  upstream_.stop();
  provider_.stop();
}

void ApacheStack::write_program_config(const std::string& extra) {
  std::string provider = "http://127.0.0.1:" + std::to_string(provider_port_);
  std::string config =
      fill(kProgramConfig, {{"@BASE@", base()}, {"@REDIS@", redis_->url()}, {"@PROVIDER@", provider}},
           "the program config");
  share_with_web_server(dir_.write("oauth-fcgi.conf", config + extra), 0640);
}

// mod_fcgid and mod_cgid run the programs as Apache's user, who may not be able to
// reach the build (a checkout under /root or any mktemp -d folder is 0700): they run
// copies in bin/ here.
void ApacheStack::copy_programs() {
  std::string bin = dir_.file("bin");
  mkdir(bin.c_str(), 0755);
  share_with_web_server(bin, 0750);
  for (const char* name : kSignInPrograms) {
    std::string program = std::string("oauth-") + name;
    std::error_code ec;
    std::filesystem::copy_file(bin_dir() + "/" + program, bin + "/" + program, ec);
    if (ec) throw std::runtime_error("cannot copy " + bin_dir() + "/" + program + ": " + ec.message());
    chmod((bin + "/" + program).c_str(), 0700);
    share_with_web_server(bin + "/" + program, 0750);
  }
}

void ApacheStack::write_files() {
  const std::string& d = dir_.path();
  share_with_web_server(d, 0710);
  for (const char* sub : {"/htdocs", "/cgi-bin", "/run", "/apache"})
    mkdir((d + sub).c_str(), 0755);
  share_with_web_server(dir_.write("secret", "0123456789abcdef0123456789abcdef-apache-secret"), 0640);
  share_with_web_server(dir_.write("github.secret", "github-secret\n"), 0640);
  write_program_config("");
  for (const auto& [name, script] : {std::pair{"whoami", kWhoami}, std::pair{"env", kEnv}}) {
    std::string path = dir_.write(std::string("cgi-bin/") + name, script);
    chmod(path.c_str(), 0700);
    share_with_web_server(path, 0750);
  }

  // The shipped snippets, with their paths pointed here.
  std::string conf = source_dir() + "/conf/apache/";
  std::string snippet = "oauth-fcgi-" + mode_name(mode_) + ".conf";
  std::map<std::string, std::string> paths;
  if (mode_ == ApacheMode::proxy_fcgi) {
    paths = {{"unix:/run/oauth-fcgi/", "unix:" + d + "/"}};
  } else {
    copy_programs();
    paths = {{"@PREFIX@/bin/", d + "/bin/"},
             {"/etc/oauth-fcgi/oauth-fcgi.conf", dir_.file("oauth-fcgi.conf")}};
  }
  dir_.write("apache/" + snippet, fill(read_file(conf + snippet), paths, snippet));
  dir_.write("apache/oauth-fcgi-authz-provider.conf",
             fill(read_file(conf + "oauth-fcgi-authz-provider.conf"),
                  {{"fcgi://127.0.0.1:9105/", "fcgi://127.0.0.1:" + std::to_string(check_port_) + "/"}},
                  "oauth-fcgi-authz-provider.conf"));
  dir_.write("apache/oauth-fcgi-authz.conf", read_file(conf + "oauth-fcgi-authz.conf"));

  std::string load;
  for (const auto& m : modules(mode_))
    load += "LoadModule " + m + "_module " + kModules + "/mod_" + m + ".so\n";
  std::string user = geteuid() == 0 ? std::string("User ") + kWebUser + "\nGroup " + kWebUser + "\n" : "";
  // mod_fcgid's own sockets and process table, server-wide (Debian's fcgid.conf
  // puts them under /run/apache2).
  std::string server =
      mode_ == ApacheMode::fcgid
          ? "FcgidIPCDir \"" + d + "/run/fcgidsock\"\nFcgidProcessTableFile \"" + d + "/run/fcgid_shm\"\n"
          : "";
  std::string protect = site_ == ApacheSite::whole_site      ? kProtectWholeSite
                        : site_ == ApacheSite::private_paths ? kProtectPrivatePaths
                                                             : "";
  std::string protect_first = site_ == ApacheSite::whole_site_first ? kProtectWholeSite : "";
  // These first: what they bring in has @DIR@ of its own.
  std::string config =
      fill(kApacheConfig, {{"@PROTECT@", protect}, {"@PROTECT_FIRST@", protect_first}}, "the Apache config");
  dir_.write("apache2.conf", fill(config,
                                  {{"@DIR@", d},
                                   {"@PORT@", std::to_string(port_)},
                                   {"@UPSTREAM@", std::to_string(upstream_port_)},
                                   {"@USER@", user},
                                   {"@MODULES@", load},
                                   {"@SERVER@", server},
                                   {"@MODE@", mode_name(mode_)}},
                                  "the Apache config"));
}

Process ApacheStack::start_program(const std::string& name, const std::string& listen) {
  return Process({bin_dir() + "/oauth-" + name, "--config", dir_.file("oauth-fcgi.conf"), "--listen", listen,
                  "--threads", "4"},
                 {}, dir_.file("programs.log"));
}

// mod_authnz_fcgi reaches its authorizer over TCP only, and never starts it.
void ApacheStack::start_check() {
  check_ = start_program("check", "127.0.0.1:" + std::to_string(check_port_));
  if (!wait_until([&] { return port_open(check_port_); }))
    throw std::runtime_error("oauth-check did not start: " + logs());
}

void ApacheStack::restart_check(const std::string& extra_config) {
  write_program_config(extra_config);
  check_.stop();
  start_check();
}

void ApacheStack::start_programs() {
  start_check();
  if (mode_ != ApacheMode::proxy_fcgi) return; // Apache starts them
  for (const char* name : kSignInPrograms)
    programs_.push_back(start_program(name, "unix:" + dir_.file(std::string(name) + ".sock")));
  for (const char* name : kSignInPrograms) {
    std::string sock = dir_.file(std::string(name) + ".sock");
    if (!wait_until([&] { return access(sock.c_str(), F_OK) == 0; }))
      throw std::runtime_error(std::string("oauth-") + name + " did not start: " + logs());
    // What the shipped systemd .socket units do: the web server's group may connect.
    share_with_web_server(sock, 0660);
  }
}

void ApacheStack::start_apache() {
  apache_ = Process({"/usr/sbin/apache2", "-f", dir_.file("apache2.conf"), "-DFOREGROUND"}, {},
                    dir_.file("apache.log"));
  bool up = wait_until([&] { return port_open(port_) || !apache_.running(); });
  if (!up || !apache_.running())
    throw std::runtime_error("apache2 did not start: " + read_file(dir_.file("apache.log")) + logs());
}

Page ApacheStack::login(Browser& b, const std::string& query, const std::string& provider_extra) {
  Page connect = b.get(base() + "/auth/connect/github" + query);
  if (connect.status != 302) return connect;
  Page authorize = b.get(connect.location() + provider_extra);
  if (authorize.status != 302) return authorize;
  return b.get(authorize.location());
}

std::string ApacheStack::logs() const {
  return read_file(dir_.file("programs.log")) + read_file(dir_.file("apache-error.log"));
}

} // namespace testutil
