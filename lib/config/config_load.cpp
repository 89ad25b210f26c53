// The config's entry points (parse_config, load_config, the default path). How a
// file is read lives in the config_*.cpp files: config_ini (lines and sections),
// config_keys (the key table), config_values and config_secrets (checking one
// value), config_checks (the checks across keys).
#include "config_load.hpp"

#include <algorithm>
#include <cstdlib>

#include <sys/stat.h>

#include "config_reader.hpp"

namespace oauthfcgi {

namespace config_detail {

ConfigReader::ConfigReader(ConfigLoad& out, std::string file, std::string base_dir)
    : out_(out), file_(std::move(file)), base_dir_(std::move(base_dir)) {
  out_.config.path = file_;
}

void ConfigReader::error(int line, std::string message) {
  out_.problems.push_back(ConfigProblem{file_, line, std::move(message), false});
}

void ConfigReader::warn(int line, std::string message) {
  out_.problems.push_back(ConfigProblem{file_, line, std::move(message), true});
}

} // namespace config_detail

namespace {

// A config is small; a larger file is the wrong file.
constexpr size_t kMaxConfigBytes = 1 << 20;

// others_may_read: the file's mode lets every user read it (inline secrets are then a warning).
ConfigLoad parse_text(std::string_view text, const std::string& file, const std::string& base_dir,
                      bool others_may_read) {
  ConfigLoad out;
  config_detail::ConfigReader reader(out, file, base_dir);
  reader.others_may_read_file = others_may_read;
  reader.parse(text);
  reader.finish();
  // Checks run in passes; report in file order as a person reads the file.
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return out;
}

} // namespace

ConfigLoad parse_config(std::string_view text, const std::string& file, const std::string& base_dir) {
  return parse_text(text, file, base_dir, false);
}

ConfigLoad load_config(const std::string& path) {
  config_detail::FileRead r = config_detail::read_whole_file(path, kMaxConfigBytes);
  if (!r.ok) {
    ConfigLoad out;
    out.config.path = path;
    std::string reason = r.too_large ? "the file is larger than " + std::to_string(kMaxConfigBytes) + " bytes"
                                     : "cannot read the config file: " + r.error;
    out.problems.push_back(
        ConfigProblem{path, 0, reason + " (give the right path with --config or $OAUTH_FCGI_CONFIG)", false});
    return out;
  }
  size_t slash = path.rfind('/');
  std::string base_dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st;
  bool others_may_read = ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH);
  return parse_text(r.content, path, base_dir, others_may_read);
}

std::string default_config_path() {
  const char* env = getenv("OAUTH_FCGI_CONFIG");
  if (env && *env) return env;
  return "/etc/oauth-fcgi/oauth-fcgi.conf";
}

} // namespace oauthfcgi
