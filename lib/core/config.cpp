// The small methods of the Config types (config.hpp). Reading a file into them is
// the config layer's work (lib/config/).
#include "config.hpp"

namespace oauthfcgi {

const ProviderConfig* Config::find_provider(std::string_view name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ClientConfig* Config::find_client(std::string_view name) const {
  for (const auto& c : clients) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ConfigProblem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (warning) out += "warning: ";
  return out + message;
}

bool ConfigLoad::ok() const {
  for (const auto& p : problems) {
    if (!p.warning) return false;
  }
  return true;
}

} // namespace oauthfcgi
