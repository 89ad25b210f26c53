// Program start-up: run_program reads the flags and the config, picks the run mode
// and hands over to the FastCGI loop or the CGI request; the default services.
#include "serve.hpp"

#include <fcgiapp.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "config_load.hpp"
#include "run_modes.hpp"

#ifndef OAUTHFCGI_VERSION
#define OAUTHFCGI_VERSION "0.0.0"
#endif

namespace oauthfcgi {

const char* const kVersion = OAUTHFCGI_VERSION;

namespace {

// The run mode (docs/programs.md), in its order of precedence.
RunMode choose_mode(const Options& opts) {
  if (!opts.listen.empty()) return RunMode::own_socket;
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (fds && pid && std::strtol(fds, nullptr, 10) >= 1 && std::strtol(pid, nullptr, 10) == ::getpid()) {
    // Ours, not our children's.
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDNAMES");
    return RunMode::systemd;
  }
  FCGX_Init();
  return FCGX_IsCGI() ? RunMode::cgi : RunMode::inherited;
}

// --help, --version or a bad flag: the exit status; nullopt to go on and serve.
std::optional<int> answer_flags(const Program& program, const Result<Options>& parsed) {
  const char* name = program.name.c_str();
  if (!parsed) {
    (void)std::fprintf(stderr, "%s: %s\n", name, parsed.error().reason.c_str());
    return 2;
  }
  if (parsed->help) {
    (void)std::fputs(usage_text(program).c_str(), stdout);
    return 0;
  }
  if (parsed->version) {
    std::printf("%s %s\n", name, kVersion);
    return 0;
  }
  return std::nullopt;
}

// A config with errors: said on stderr and, under CGI, a plain 500 to the browser.
int refuse_to_start(const Program& program, const ConfigLoad& load, RunMode mode) {
  print_problems(load.problems);
  (void)std::fprintf(stderr, "%s: not started: the config file has errors\n", program.name.c_str());
  if (mode == RunMode::cgi) {
    // The browser learns only that something is wrong; the details are in the log.
    Response page = Response::html_page(500, status_text(500),
                                        "The server is misconfigured. The details are in its error log.");
    write_all(STDOUT_FILENO, page.serialize());
  }
  return 1;
}

// Mode 1: our own socket; modes 2 and 3 serve the inherited fd 3 or 0.
int serve_socket(const Serving& serving, const Options& opts, RunMode mode, const Workers& workers) {
  Fd own;
  OwnedSocketFile owned;
  int listen_fd = mode == RunMode::systemd ? 3 : 0;
  if (mode == RunMode::own_socket) {
    ListenAddress where = parse_listen(opts.listen).value();
    UnixSocketOptions socket_options;
    socket_options.mode = opts.socket_mode.value_or(kDefaultSocketMode);
    socket_options.group = opts.socket_group;
    auto fd = where.unix_socket ? listen_unix(where.path, socket_options, owned)
                                : listen_tcp(where.host, where.port);
    if (!fd) {
      (void)std::fprintf(stderr, "%s: %s\n", serving.program.name.c_str(), fd.error().reason.c_str());
      return 1;
    }
    own = std::move(fd.value());
    listen_fd = own.get();
  }
  return serve_fastcgi(serving, listen_fd, workers, mode, owned);
}

} // namespace

const char* run_mode_name(RunMode m) {
  switch (m) {
  case RunMode::own_socket: return "listen";
  case RunMode::systemd: return "systemd";
  case RunMode::inherited: return "inherited";
  case RunMode::cgi: return "cgi";
  }
  return "?";
}

Services default_services() {
  Services s;
  s.make_store = [](const Config& c) -> std::unique_ptr<Store> {
    return std::make_unique<RedisStore>(c.redis);
  };
  s.make_http = [](const Config& c) -> std::unique_ptr<HttpClient> {
    // GitHub refuses API calls without a User-Agent; name ourselves and the version.
    return std::make_unique<CurlHttpClient>(c.http, std::string("oauth-fcgi/") + kVersion);
  };
  return s;
}

std::unique_ptr<Store> make_store(const Services& services, const Config& config) {
  return services.make_store ? services.make_store(config) : default_services().make_store(config);
}

std::unique_ptr<HttpClient> make_http(const Services& services, const Config& config) {
  return services.make_http ? services.make_http(config) : default_services().make_http(config);
}

int run_program(const Program& program, int argc, char** argv, const Services& services) {
  // Before FCGX_Init, which installs its own SIGPIPE handler only over the default.
  if (std::signal(SIGPIPE, SIG_IGN) != SIG_ERR) redis_sigpipe_ignored_for_good();
  std::vector<const char*> args = options_argv(argc, argv);
  auto parsed = parse_options(static_cast<int>(args.size()), args.data());
  if (auto done = answer_flags(program, parsed)) return *done;
  const Options& opts = parsed.value();

  ConfigLoad load = load_config(opts.config_path);
  if (opts.check_config) return check_config(program, opts, load, services);
  RunMode mode = choose_mode(opts);
  if (!load.ok()) return refuse_to_start(program, load, mode);
  print_problems(load.problems); // warnings only
  Config config = std::move(load.config);
  if (opts.threads) config.server.threads = *opts.threads;
  if (opts.max_threads) config.server.max_threads = *opts.max_threads;
  Workers workers;
  workers.start = std::max(1, std::min(config.server.threads, kMaxThreads));
  // A ceiling below the start count would only be a typo: the start count wins.
  workers.max = std::max(workers.start, std::min(config.server.max_threads, kMaxPoolThreads));
  Log log(program.name, config.server.log_level, config.server.log_format);
  Keys keys = derive_keys(config.server.secret);
  http_global_init(); // before any thread: curl_global_init is not thread-safe

  Serving serving{program, config, keys, services, log};
  if (mode == RunMode::cgi) return serve_cgi(serving);
  return serve_socket(serving, opts, mode, workers);
}

} // namespace oauthfcgi
