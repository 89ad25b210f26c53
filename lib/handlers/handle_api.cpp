// ANY <prefix>/api/<provider>/<path>: the provider's API called with the session's token,
// which never leaves us (docs/routes.md, "The provider's API as the signed-in user").
// The refusals come in the contract's order, each before any call upstream; the rules
// themselves are api_relay.hpp's.
#include "api_relay.hpp"
#include "flow.hpp"
#include "handlers.hpp"
#include "refresh.hpp"
#include "sessions.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

Response refuse(const Context& ctx, ErrorKind kind, std::string reason, std::string code) {
  return fail(ctx, make_error(kind, std::move(reason), std::move(code)), "api");
}

// A page of another site (or a form post) can make the browser send its cookie here;
// a custom header can't be sent cross-site without CORS, which we never grant.
std::optional<std::string> csrf_refusal(const Request& request, const Config& config) {
  if (request.header("X-CSRF") != std::optional<std::string_view>("1"))
    return "the request has no X-CSRF: 1 header (fetch() must send it)";
  if (request.header("Sec-Fetch-Site") == std::optional<std::string_view>("cross-site"))
    return "the browser says the request comes from another site (Sec-Fetch-Site: cross-site)";
  if (auto origin = request.header("Origin")) {
    auto ours = url_origin(config.server.public_url);
    if (!ours.ok() || *origin != *ours) return "the request's Origin is not public_url's";
  }
  return std::nullopt;
}

// The path after <prefix>/api/<provider>/ as the browser sent it: REQUEST_URI, which
// the web server has not decoded or normalised (SCRIPT_NAME has been, and would hide a
// "..", "//" or "%2f" that the API server may read otherwise).
Result<ApiPath> requested_path(const Request& request, const Config& config, const std::string& provider) {
  std::string_view uri = request.param("REQUEST_URI").value_or(request.route());
  uri = uri.substr(0, uri.find('?'));
  const std::string base = config.server.route_prefix + "/api/" + provider + "/";
  if (!starts_with(uri, base))
    return make_error(ErrorKind::bad_request,
                      "the request path is not " + base +
                          "<path> as sent (a . or .. segment, // or an encoding "
                          "moved it)",
                      "bad_path");
  return parse_api_path(uri.substr(base.size()));
}

void drop_header(Headers& headers, std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const Header& h) { return ascii_iequals(h.first, name); }),
                headers.end());
}

// The upstream request for one attempt with the session's current token.
HttpRequest upstream_request(const Provider& p, const TokenSet& tokens, const Request& request,
                             const std::string& url) {
  HttpRequest up = api_request(p, tokens, url);
  up.method = request.method();
  up.body = request.body();
  Headers forwarded = api_forwarded_headers(request);
  // The browser's Accept wins over the type's default (GitHub's vnd.github+json), unless
  // it is fetch()'s "*/*", which states no preference.
  if (const std::string* accept = find_header(forwarded, "Accept"))
    drop_header(*accept == "*/*" ? forwarded : up.headers, "Accept");
  up.headers.insert(up.headers.end(), forwarded.begin(), forwarded.end());
  return up;
}

// What a failed upstream call answers: the JSON codes of the contract.
Error upstream_failure(const Error& e) {
  if (e.kind == ErrorKind::provider_error)
    return make_error(e.kind, e.reason,
                      e.code == kResponseTooLarge ? "upstream_too_large" : "upstream_unreachable");
  if (e.kind == ErrorKind::provider_timeout) return make_error(e.kind, e.reason, "upstream_timeout");
  return e;
}

} // namespace

Response handle_api(const Request& request, Context& ctx) {
  const Config& config = ctx.config;
  const std::string& name = ctx.route_name;
  const ProviderConfig* pc = config.find_provider(name);
  if (!pc) return refuse(ctx, ErrorKind::not_found, "no provider named " + name, "unknown_provider");
  if (auto why = csrf_refusal(request, config)) return refuse(ctx, ErrorKind::forbidden, *why, "csrf");
  auto path = requested_path(request, config, name);
  if (!path.ok()) return fail(ctx, path.error(), "api");
  if (!api_allowed(pc->api_allow, request.method(), path->segments))
    return refuse(ctx, ErrorKind::forbidden,
                  request.method() + " /" + path->raw + " is not in " + name + "'s api_allow", "not_allowed");
  auto unauthenticated = [&] {
    return error_answer(ctx, make_error(ErrorKind::unauthenticated, "not signed in"));
  };
  if (!ctx.session) return unauthenticated();
  auto stored = AuthStore(ctx.store, ctx.keys).use_session(*ctx.session, config.session, ctx.clock.now());
  if (!stored.ok()) return fail(ctx, stored.error(), "api");
  if (!stored->has_value() || (*stored)->profile.provider != name) return unauthenticated();
  // Checked here, sixth (the route's late_body_limit): a body over the limit was not read.
  if (auto body = check_body_limit(request.env(), config.limits); !body)
    return fail(ctx, body.error(), "api");

  auto provider = ready_provider(*pc, ctx);
  if (!provider.ok()) return fail(ctx, provider.error(), "api");
  const Provider& p = *provider;
  std::string url = p.api_url + "/" + path->raw;
  if (!request.query_string().empty()) url += "?" + request.query_string();

  HttpResponse answer;
  auto start = ctx.clock.steady();
  auto used =
      call_with_token(ctx, p, *ctx.session, std::move(**stored), [&](const Session& s) -> Result<void> {
        auto sent = ctx.http.send(upstream_request(p, s.tokens, request, url));
        if (!sent.ok()) return upstream_failure(sent.error());
        if (sent->status == 401)
          return make_error(ErrorKind::token_rejected,
                            p.name + " API answered 401 to " + request.method() + " /" + path->raw);
        answer = std::move(sent.value());
        return {};
      });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.steady() - start);
  if (!used.ok()) return fail(ctx, used.error(), "api").annotate("provider", name);
  if (answer.status < 200 || answer.status > 599)
    return fail(ctx,
                make_error(ErrorKind::provider_error,
                           p.name + " API answered status " + std::to_string(answer.status),
                           "upstream_unreachable"),
                "api");

  Response r;
  r.status = static_cast<int>(answer.status);
  r.headers = api_answer_headers(answer, p.api_url,
                                 config.server.public_url + config.server.route_prefix + "/api/" + name);
  r.body = std::move(answer.body);
  r.annotate("provider", name);
  r.annotate("upstream_status", std::to_string(answer.status));
  r.annotate("upstream_ms", std::to_string(ms.count()));
  return r;
}

} // namespace oauthfcgi
