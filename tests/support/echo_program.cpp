// oauth-test-echo: a program on the shared serve loop that answers what it was asked,
// so the serve-loop tests can drive the four run modes without Redis or a provider.
//   ?sleep_ms=N  answer after N ms, waiting on the context's clock as a lock poll does
//                (graceful shutdown, parallel workers, the pool's growth)
//   ?spin_ms=N   answer after N ms of computing (a busy worker, not a waiting one)
//   ?throw=1     the handler throws (must become a 500)
// The body: one "key=value" line each for method, route, query, cookie (the "echo"
// cookie), body and pid.
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "serve.hpp"

using namespace oauthfcgi;

namespace {

// ?name=N as a duration of 1 ms to 60 s; 0 when absent or out of range.
std::chrono::milliseconds ms_param(const Request& request, const char* name) {
  auto param = request.query_param(name);
  if (param.state != ParamState::single) return std::chrono::milliseconds(0);
  long ms = std::strtol(param.value.c_str(), nullptr, 10);
  return std::chrono::milliseconds(ms > 0 && ms <= 60000 ? ms : 0);
}

Response echo(const Request& request, Context& ctx) {
  // Tests wait for this line to know a request is in the handler.
  ctx.log.info("echo_started");
  if (auto sleep = ms_param(request, "sleep_ms"); sleep.count() > 0) ctx.clock.sleep_for(sleep);
  auto until = std::chrono::steady_clock::now() + ms_param(request, "spin_ms");
  while (std::chrono::steady_clock::now() < until) {
  }
  if (request.query_param("throw").state != ParamState::missing) throw std::runtime_error("asked to throw");
  Response r;
  auto cookie = request.cookie("echo");
  r.body = "method=" + request.method() + "\nroute=" + request.route() + "\nquery=" + request.query_string() +
           "\ncookie=" + (cookie ? *cookie : "(none)") + "\nbody=" + request.body() +
           "\npid=" + std::to_string(getpid()) + "\n";
  return r;
}

} // namespace

int main(int argc, char** argv) {
  Program program = catch_all_program(
      "oauth-test-echo", "echoes each request back (for the serve-loop tests)", echo, ErrorStyle::html);
  return run_program(program, argc, argv);
}
