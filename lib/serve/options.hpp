// The command line of the FastCGI programs: their flags (parse_options), --help
// (usage_text, serve.hpp) and, under CGI, which arguments are flags at all; and the
// reading of one flag and its value, which oauth-fetch's flags (fetch_flags.hpp) share.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace oauthfcgi {

constexpr int kMaxThreads = 256;      // --threads, [server] threads: workers at start
constexpr int kMaxPoolThreads = 4096; // --max-threads, [server] max_threads: the pool's ceiling

struct Options {
  std::string config_path;           // resolved: --config, $OAUTH_FCGI_CONFIG, default
  std::optional<int> threads;        // --threads
  std::optional<int> max_threads;    // --max-threads
  std::string listen;                // --listen unix:PATH | HOST:PORT; empty = inherited/CGI
  std::optional<gid_t> socket_group; // --socket-group, resolved; only with --listen unix:
  std::optional<mode_t> socket_mode; // --socket-mode; only with --listen unix:
  bool check_config = false, version = false, help = false;
};
// A command-line word read as a flag: "--name=value" is {"--name", "value"}, "-Xvalue"
// {"-X", "value"}, anything else {word, nullopt}.
struct FlagWord {
  std::string name;
  std::optional<std::string> attached;
};
FlagWord split_flag(std::string_view word);
// The flag's value: the attached one, else argv[i + 1] (i then moves on to it);
// nullopt when there is none.
std::optional<std::string> flag_value(const FlagWord& flag, int& i, int argc, const char* const* argv);

Result<Options> parse_options(int argc, const char* const* argv);

// argv without the words a CGI query without '=' adds (Apache's old ISINDEX form):
// they come from the browser and are never read as flags.
std::vector<const char*> options_argv(int argc, char** argv);

} // namespace oauthfcgi
