// The six endpoints (docs/routes.md), one file each (handle_*.cpp), and what they share
// (web.cpp). Each takes the request and the context the pipeline filled from its
// route (routes.cpp: method, error style, name, session cookie) and returns the
// answer; they never touch a socket, so tests drive them with a MemoryStore and a
// fake HttpClient.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "context.hpp"
#include "cookie.hpp" // cookie names, make_cookie, is_token_shaped
#include "provider.hpp"
#include "request.hpp"
#include "response.hpp"

namespace oauthfcgi {

Response handle_connect(const Request& request, Context& context);
Response handle_callback(const Request& request, Context& context);
Response handle_profile(const Request& request, Context& context);
Response handle_logout(const Request& request, Context& context);
Response handle_check(const Request& request, Context& context);
Response handle_api(const Request& request, Context& context);

// ---- shared by the handlers (web.cpp; their cookies in cookie.hpp) ----

// The provider of a config section, ready to use: type defaults applied and, for
// OpenID Connect types, the discovery document read (cached in the process and in Redis).
Result<Provider> ready_provider(const ProviderConfig& config, Context& context);
// The session cookie's value when it is present and well-formed.
std::optional<std::string> session_cookie(const Request& request, const Config& config);
// The binding cookie's value when it is present and well-formed.
std::optional<std::string> binding_cookie(const Request& request, const Config& config);

} // namespace oauthfcgi
