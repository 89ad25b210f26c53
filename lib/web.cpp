#include "access.hpp"
#include "handlers.hpp"
#include "oidc.hpp"

#include <algorithm>

namespace oauthfcgi {

std::string session_cookie_name(const Config& config) {
  return config.session.cookie_name;
}
std::string binding_cookie_name(const Config& config) {
  return config.session.cookie_name + "_bind";
}

Cookie make_cookie(const Config& config, std::string name, std::string value, std::optional<long> max_age) {
  Cookie c;
  c.name = std::move(name);
  c.value = std::move(value);
  c.max_age = max_age;
  c.secure = config.server.public_url_https;
  c.http_only = true;
  c.same_site = "Lax";
  c.path = "/";
  return c;
}

bool is_token_shaped(std::string_view value) {
  return value.size() == 43 && std::all_of(value.begin(), value.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_';
         });
}

std::optional<std::string> route_tail(const Request& request, const Config& config,
                                      std::string_view endpoint) {
  std::string base = config.server.route_prefix + std::string(endpoint);
  const std::string& route = request.route();
  if (route.compare(0, base.size(), base) != 0) return std::nullopt;
  std::string tail = route.substr(base.size());
  if (!tail.empty() && tail[0] != '/') return std::nullopt; // "/connectX"
  if (tail == "/") tail.clear();
  return tail;
}

std::optional<std::string> provider_from_tail(const std::string& tail) {
  if (tail.empty()) return std::string();
  std::string name = tail.substr(1);
  if (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      }))
    return std::nullopt;
  return name;
}

Result<Provider> ready_provider(const ProviderConfig& config, Context& ctx) {
  auto provider = resolve_provider(config);
  if (!provider.ok()) return provider;
  // A github_orgs rule needs the user's private memberships too.
  if (needs_github_orgs(ctx.config, config) && !config.scope_set) provider->scope.push_back("read:org");
  if (!provider->openid) return provider;
  if (auto discovered = discover(*provider, ctx.store, ctx.http); !discovered.ok()) return discovered.error();
  return provider;
}

std::optional<std::string> session_cookie(const Request& request, const Config& config) {
  auto value = request.cookie(session_cookie_name(config));
  if (!value || !is_token_shaped(*value)) return std::nullopt;
  return value;
}

Response error_page(const Context& context, const Error& error) {
  return error_response(error, ErrorStyle::html, login_path(context.config));
}

Response fail(const Context& context, const Error& error, ErrorStyle style, std::string_view event) {
  int status = http_status(error.kind);
  LogFields fields = {{"status", std::to_string(status)}, {"reason", error.reason}};
  if (status >= 500)
    context.log.error(event, fields);
  else
    context.log.info(event, fields);
  if (style == ErrorStyle::html) return error_page(context, error);
  return error_response(error, style);
}

} // namespace oauthfcgi
