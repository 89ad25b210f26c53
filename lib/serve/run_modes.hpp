// Inside the serve layer: what start-up (serve.cpp) hands to the run modes: the
// FastCGI loop (fcgi_loop.cpp), one CGI request (cgi.cpp) and --check-config
// (check_config_output.cpp).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "listen.hpp"
#include "serve.hpp"

namespace oauthfcgi {

enum class RunMode { own_socket, systemd, inherited, cgi };
const char* run_mode_name(RunMode mode);

// What every request of a run is served with.
struct Serving {
  const Program& program;
  const Config& config;
  const Keys& keys;
  const Services& services;
  const Log& log;
};

// Services' store and HTTP client, the defaults where a function is missing.
std::unique_ptr<Store> make_store(const Services& services, const Config& config);
std::unique_ptr<HttpClient> make_http(const Services& services, const Config& config);

// The 500 a request gets when it cannot be handled, in the program's error style.
Response internal_error(const Program& program, const Config& config);

// The worker pool: `start` workers at first, more while every one is busy, up to `max`.
struct Workers {
  int start = 8;
  int max = 512;
};

// Modes 1-3: the worker pool on listen_fd until SIGTERM/SIGINT; ends the process.
int serve_fastcgi(const Serving& serving, int listen_fd, const Workers& workers, RunMode mode,
                  const OwnedSocketFile& owned);
// Mode 4: one request from the environment and stdin, the answer on stdout.
int serve_cgi(const Serving& serving);
void write_all(int fd, std::string_view data);

// --check-config: the problems, "ok", and a warning when Redis does not answer.
int check_config(const Program& program, const Options& opts, const ConfigLoad& load,
                 const Services& services);
void print_problems(const std::vector<ConfigProblem>& problems);

} // namespace oauthfcgi
