// Reading the config file (docs/configuration.md) into a Config (core/config.hpp):
// the entry points the programs and tests call. It sits above the provider code
// because each provider type's own config rules come from its file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace oauthfcgi {

// Parses config text. `file` names it in messages; *_file paths that are relative
// are read relative to `base_dir` (the config file's folder).
ConfigLoad parse_config(std::string_view text, const std::string& file, const std::string& base_dir);
// Reads and parses a file.
ConfigLoad load_config(const std::string& path);
// --config, else $OAUTH_FCGI_CONFIG, else /etc/oauth-fcgi/oauth-fcgi.conf.
std::string default_config_path();

// What --check-config adds to a load's problems, as warnings: likely mistakes that
// are not worth a line at every start (an all-digit allowed_users login, most likely
// meant as an id; a [client NAME] whose token oauth-fetch may send anywhere).
std::vector<ConfigProblem> check_config_advice(const Config& config);

// Every key the parser knows, as "section.key" ("provider.scope" for [provider NAME]),
// so a test can compare it with conf/oauth-fcgi.conf.example.
const std::vector<std::string>& known_config_keys();

} // namespace oauthfcgi
