// Run mode 4, plain CGI (mod_cgid, fcgiwrap): one request from the environment and
// stdin, its answer on stdout.
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "run_modes.hpp"

extern char** environ;

namespace oauthfcgi {
namespace {

// At most n bytes of stdin: the body, once its size is known to be acceptable.
std::string read_stdin(size_t n) {
  std::string body(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(STDIN_FILENO, &body[got], n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  body.resize(got);
  return body;
}

} // namespace

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

int serve_cgi(const Serving& s) {
  Request::Env env = Request::Env::from_envp(environ);
  std::string body;
  if (check_limits(env, s.config.limits).ok()) body = read_stdin(*content_length(env));
  Request request(std::move(env), std::move(body));
  Response response;
  try {
    auto store = make_store(s.services, s.config);
    auto http = make_http(s.services, s.config);
    if (!store || !http) throw std::runtime_error("no store or HTTP client");
    Context ctx{s.config, s.keys, *store, *http, s.log, system_clock(), system_random()};
    response = handle_request(s.program, request, ctx);
  } catch (const std::exception& e) {
    s.log.error("request_failed", {{"error", e.what()}});
    response = internal_error(s.program, s.config);
  }
  write_all(STDOUT_FILENO, response.serialize());
  return 0;
}

} // namespace oauthfcgi
