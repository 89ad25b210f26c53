#include "stack.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "browser.hpp"

namespace testutil {
namespace {

const char* const kPrograms[] = {"connect", "callback", "profile", "logout", "check", "api"};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

} // namespace

Stack::Stack(StackOptions options)
    : redis_(std::make_unique<RedisServer>()), nginx_port_(free_port()), upstream_port_(free_port()),
      provider_port_(free_port()), options_(std::move(options)) {
  std::string cb = base() + "/auth/callback/";
  std::vector<std::string> provider_cmd = {
      "/usr/bin/python3", source_dir() + "/tests/dev_provider/dev_provider.py",
      "--port",           std::to_string(provider_port_),
      "--client",         "github-client:github-secret:" + cb + "github",
      "--client",         "dev-client:dev-secret:" + cb + "dev",
      "--client",         "fb-client:fb-secret:" + cb + "facebook",
      "--client",         "fb-client:fb-secret:" + cb + "facebook_old"};
  provider_cmd.insert(provider_cmd.end(), options_.provider_args.begin(), options_.provider_args.end());
  provider_ = Process(provider_cmd, {}, dir_.file("provider.log"));
  if (!wait_until([&] { return port_open(provider_port_); }))
    throw std::runtime_error("dev provider did not start: " + read_file(dir_.file("provider.log")));

  dir_.write("secret", "0123456789abcdef0123456789abcdef-test-secret");
  dir_.write("github.secret", "github-secret\n");
  if (options_.oidc) start_oidc();
  write_config();
  start_programs();
  start_nginx();
}

Stack::~Stack() {
  nginx_.stop();
  for (auto& p : programs_)
    p.stop();
  keep_for_leak_scan();
  provider_.stop();
  emulator_.stop();
  op_.stop();
}

// The suite's leak scan (tests/integration/leak_scan.cpp) reads, after every other
// integration test, what each stack logged and which secret values it used.
void Stack::keep_for_leak_scan() {
  std::string dir = leak_scan_dir();
  mkdir(dir.c_str(), 0700);
  std::string tag = "==== " + dir_.path() + "\n";
  std::ofstream(dir + "/logs.txt", std::ios::app) << tag << program_logs();
  std::ofstream secrets(dir + "/secrets.txt", std::ios::app);
  for (const char* s : {"github-secret", "dev-secret", "fb-secret", "oidc-secret", "op-secret",
                        "0123456789abcdef0123456789abcdef-test-secret"})
    secrets << s << "\n";
  for (const auto& s : seen_secrets())
    secrets << s << "\n";
}

void Stack::write_config() {
  std::string p = provider();
  // @PROVIDER@ in a section stands for the dev provider's base URL, known only now
  // (e.g. "api_url = @PROVIDER@/github/api").
  auto at_provider = [&](const std::string& section) { return replace_all(section, "@PROVIDER@", p); };
  // Facebook's two hosts live under /facebook/www and /facebook/graph of the emulator;
  // facebook_old speaks Graph v2.2, whose token answer is form-encoded.
  auto facebook = [&](const std::string& name, const std::string& version) {
    std::string graph = p + "/facebook/graph/" + version;
    return "[provider " + name + "]\ntype = facebook\nclient_id = fb-client\nclient_secret = fb-secret\n" +
           "graph_version = " + version + "\nauthorize_url = " + p + "/facebook/www/" + version +
           "/dialog/oauth\ntoken_url = " + graph + "/oauth/access_token\nuserinfo_url = " + graph +
           "/me\ndebug_token_url = " + graph + "/debug_token\nrevoke_url = " + graph + "/me/permissions\n\n";
  };
  std::string config =
      "[server]\npublic_url = " + base() + "\nsecret_file = secret\nlog_level = info\n\n" +
      "[redis]\nurl = " + redis_->url() + "\ntimeout_ms = 500\n\n" + options_.http_section + "\n" +
      options_.limits_section + "\n" + options_.session_section + "\n" +
      "[provider github]\ntype = github\nclient_id = github-client\n"
      "client_secret_file = github.secret\nauthorize_url = " +
      p + "/github/login/oauth/authorize\ntoken_url = " + p +
      "/github/login/oauth/access_token\nuserinfo_url = " + p + "/github/api/user\nemails_url = " + p +
      "/github/api/user/emails\n" + at_provider(options_.github_section) + "\n" +
      "[provider dev]\ntype = oauth2\nclient_id = dev-client\nclient_secret = dev-secret\n"
      "authorize_url = " +
      p + "/oauth2/authorize\ntoken_url = " + p + "/oauth2/token\nuserinfo_url = " + p +
      "/oauth2/userinfo\n" + at_provider(options_.dev_section) + "\n" + facebook("facebook", "v19.0") +
      facebook("facebook_old", "v2.2") + oidc_config_ + at_provider(options_.extra_config);
  dir_.write("oauth-fcgi.conf", config);
}

void Stack::reconfigure(const StackOptions& changed) {
  options_.extra_config = changed.extra_config;
  options_.github_section = changed.github_section;
  options_.dev_section = changed.dev_section;
  options_.session_section = changed.session_section;
  write_config();
  for (auto& program : programs_)
    program.stop();
  programs_.clear();
  for (const char* name : kPrograms)
    unlink(dir_.file(std::string(name) + ".sock").c_str());
  start_programs();
}

void Stack::start_oidc() {
  std::string cb = base() + "/auth/callback/";
  emulator_port_ = free_port();
  op_port_ = free_port();
  std::vector<std::string> emulator = {"node", source_dir() + "/tests/oidc/emulator.mjs", "--port",
                                       std::to_string(emulator_port_)};
  std::vector<std::string> names = {"google", "gitlab", "sso"};
  names.insert(names.end(), options_.emulator_providers.begin(), options_.emulator_providers.end());
  for (const std::string& name : names)
    emulator.insert(emulator.end(), {"--client", "oidc-client:oidc-secret:" + cb + name});
  emulator_ = Process(emulator, {}, dir_.file("emulator.log"));
  std::vector<std::string> op = {"node",     source_dir() + "/tests/oidc/op.mjs",
                                 "--port",   std::to_string(op_port_),
                                 "--client", "op-client:op-secret:" + cb + "op"};
  op.insert(op.end(), options_.op_args.begin(), options_.op_args.end());
  op_ = Process(op, {}, dir_.file("op.log"));
  // Node loading oidc-provider and making an RSA key took over 15 s once, in a
  // sanitizer run sharing two cores with the other tests: the bound is generous, the
  // wait ends as soon as the port opens.
  const auto node_start = std::chrono::seconds(60);
  if (!wait_until([&] { return port_open(emulator_port_); }, node_start))
    throw std::runtime_error("OIDC emulator did not start: " + read_file(dir_.file("emulator.log")));
  if (!wait_until([&] { return port_open(op_port_); }, node_start))
    throw std::runtime_error("oidc-provider did not start: " + read_file(dir_.file("op.log")));
  std::string e = oidc_emulator();
  oidc_config_ = "[provider op]\ntype = oidc\nissuer = " + oidc_op() +
                 "\nclient_id = op-client\nclient_secret = op-secret\n\n"
                 "[provider google]\ntype = google\nissuer = " +
                 e + "/google\nclient_id = oidc-client\nclient_secret = oidc-secret\n\n" +
                 "[provider gitlab]\ntype = gitlab\nbase_url = " + e +
                 "/gitlab\nclient_id = oidc-client\nclient_secret = oidc-secret\n\n" +
                 "[provider sso]\ntype = oidc\nissuer = " + e +
                 "/oidc\nclient_id = oidc-client\nclient_secret = oidc-secret\n\n";
}

std::string Stack::emulator_call(const std::string& method, const std::string& path) {
  Browser b;
  return b.request(method, oidc_emulator() + path).body;
}

int Stack::emulator_count(const std::string& flavor, const std::string& name) {
  std::string stats = emulator_call("GET", "/_dev/stats");
  size_t at = stats.find("\"" + flavor + "\":{");
  std::string rest = at == std::string::npos ? "" : stats.substr(at);
  std::smatch m;
  if (std::regex_search(rest, m, std::regex("\"" + name + "\":(\\d+)"))) return std::stoi(m[1]);
  return -1;
}

void Stack::start_programs() {
  for (const char* name : kPrograms) {
    std::string sock = dir_.file(std::string(name) + ".sock");
    programs_.emplace_back(std::vector<std::string>{bin_dir() + "/oauth-" + name, "--config", config_path(),
                                                    "--listen", "unix:" + sock, "--threads",
                                                    std::to_string(options_.threads)},
                           std::map<std::string, std::string>{}, dir_.file("programs.log"));
  }
  for (const char* name : kPrograms) {
    std::string sock = dir_.file(std::string(name) + ".sock");
    if (!wait_until([&] { return access(sock.c_str(), F_OK) == 0; }))
      throw std::runtime_error(std::string("oauth-") + name + " did not start: " + program_logs());
  }
}

void Stack::start_nginx() {
  std::string d = dir_.path();
  // The shipped snippets as a user installs them, only the sockets moved here.
  mkdir(dir_.file("nginx").c_str(), 0700);
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() + "/conf/nginx")) {
    if (entry.path().extension() != ".conf") continue;
    std::string snippet = read_file(entry.path().string());
    snippet = replace_all(snippet, "unix:/run/oauth-fcgi/", "unix:" + d + "/");
    dir_.write("nginx/" + entry.path().filename().string(), snippet);
  }
  dir_.write("fastcgi_params", read_file("/etc/nginx/fastcgi_params"));
  mkdir(dir_.file("tmp").c_str(), 0700);
  std::string upstream_port = std::to_string(upstream_port_);
  std::string site = !options_.nginx_site.empty()
                         ? options_.nginx_site
                         : "    location = / { default_type text/plain; return 200 \"home\\n\"; }\n"
                           "    location /private/ {\n"
                           "      include nginx/oauth-fcgi-protect.conf;\n"
                           "      proxy_pass http://127.0.0.1:" +
                               upstream_port + ";\n    }\n";
  std::string temp_paths;
  for (const char* kind : {"client_body", "fastcgi", "proxy", "uwsgi", "scgi"})
    temp_paths += std::string("  ") + kind + "_temp_path " + d + "/tmp/" + kind + ";\n";
  std::string conf = std::string(geteuid() == 0 ? "user root;\n" : "") + "worker_processes 1;\nerror_log " +
                     d + "/nginx-error.log info;\npid " + d +
                     "/nginx.pid;\nevents { worker_connections 512; }\nhttp {\n  access_log off;\n" +
                     temp_paths + "  server {\n    listen 127.0.0.1:" + std::to_string(nginx_port_) +
                     ";\n    include nginx/oauth-fcgi.conf;\n" + site +
                     "  }\n"
                     "  server {\n    listen 127.0.0.1:" +
                     upstream_port +
                     ";\n"
                     "    location / { default_type text/plain; return 200 \"user=$http_x_auth_user "
                     "email=$http_x_auth_email provider=$http_x_auth_provider uri=$request_uri "
                     "login=$http_x_auth_login id=$http_x_auth_id name=$http_x_auth_name\\n\"; }\n"
                     "  }\n}\n";
  dir_.write("nginx.conf", conf);
  nginx_ = Process({"nginx", "-p", d + "/", "-c", d + "/nginx.conf", "-g", "daemon off;"}, {},
                   dir_.file("nginx.log"));
  if (!wait_until([&] { return port_open(nginx_port_) && port_open(upstream_port_); }))
    throw std::runtime_error("nginx did not start: " + read_file(dir_.file("nginx.log")) +
                             read_file(dir_.file("nginx-error.log")));
}

Page Stack::login(Browser& b, const std::string& provider, const std::string& query,
                  const std::string& provider_extra) {
  Page connect = b.get(base() + "/auth/connect/" + provider + query);
  if (connect.status != 302) return connect;
  std::string to = connect.location();
  std::string origin = to.substr(0, to.find('/', to.find("//") + 2));
  Page hop = b.get(to + provider_extra);
  // The provider's own hops (oidc-provider's interaction pages) until it sends the
  // browser back to us.
  for (int i = 0; i < 10 && hop.status / 100 == 3 && hop.location().rfind(base(), 0) != 0; ++i) {
    to = hop.location();
    hop = b.get(to.rfind("http", 0) == 0 ? to : origin + to);
  }
  if (hop.status / 100 != 3) return hop;
  return b.get(hop.location());
}

std::string query_value(const std::string& url, const std::string& name) {
  auto q = url.find('?');
  std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  size_t at = 0;
  while (at <= query.size()) {
    size_t amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return "";
}

pid_t Stack::program_pid(const std::string& name) const {
  for (size_t i = 0; i < programs_.size() && i < std::size(kPrograms); ++i)
    if (name == kPrograms[i]) return programs_[i].pid();
  return -1;
}

std::string Stack::program_logs() const {
  return read_file(dir_.file("programs.log"));
}

std::string Stack::provider_call(const std::string& method, const std::string& path) {
  Browser b;
  return b.request(method, provider() + path).body;
}

int Stack::provider_count(const std::string& name) {
  std::string stats = provider_call("GET", "/_dev/stats");
  std::smatch m;
  if (std::regex_search(stats, m, std::regex("\"" + name + "\"\\s*:\\s*(\\d+)"))) return std::stoi(m[1]);
  return -1;
}

} // namespace testutil
