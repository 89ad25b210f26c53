// What --check-config prints: the config's problems, "ok", and whether Redis answers.
#include <cstdio>
#include <exception>

#include "config_load.hpp"
#include "run_modes.hpp"

namespace oauthfcgi {
namespace {

// Where Redis is, for messages: never the url itself, which may hold a password.
std::string redis_where(const RedisConfig& r) {
  return r.unix_socket ? r.host : r.host + ":" + std::to_string(r.port);
}

// Why the store does not answer; empty when it does.
std::string redis_failure(const Services& services, const Config& config) {
  try {
    auto store = make_store(services, config);
    if (!store) return "no store";
    if (auto ping = store->ping(); !ping) return ping.error().reason;
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

} // namespace

void print_problems(const std::vector<ConfigProblem>& problems) {
  for (const auto& p : problems)
    (void)std::fprintf(stderr, "%s\n", p.to_string().c_str());
}

int check_config(const Program& program, const Options& opts, const ConfigLoad& load,
                 const Services& services) {
  print_problems(load.problems);
  if (!load.ok()) return 1;
  print_problems(check_config_advice(load.config));
  std::printf("%s: %s: ok\n", program.name.c_str(), opts.config_path.c_str());
  (void)std::fflush(stdout);
  // Redis down is not a config error (it may come up later), but worth saying now.
  std::string failure = redis_failure(services, load.config);
  // Exit 0 all the same: the config is right, and Redis may live elsewhere or start later.
  if (!failure.empty())
    (void)std::fprintf(
        stderr,
        "%s: WARNING: Redis at %s does not answer: %s (start it, or correct [redis] url in %s; "
        "until it answers, requests get 503)\n",
        program.name.c_str(), redis_where(load.config.redis).c_str(), failure.c_str(),
        opts.config_path.c_str());
  return 0;
}

} // namespace oauthfcgi
