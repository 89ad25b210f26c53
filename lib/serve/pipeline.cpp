// The request pipeline: limits, the route table (405 for a method the route does
// not take, 404 for a path or name it does not take), the route's error style, the
// handler with its exceptions turned into a 500, and the one log line per request.
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "handlers.hpp"
#include "run_modes.hpp"

namespace oauthfcgi {
namespace {

const char* const kCouldNotHandle = "The server could not handle the request.";

ErrorStyle program_style(const Program& program) {
  return program.routes.empty() ? ErrorStyle::html : program.routes.front().error_style;
}

// The part of the route after route_prefix + path: "" or "/name"; nullopt when the
// route is not under it ("/connectX").
std::optional<std::string> route_tail(const std::string& route, const Config& config,
                                      const std::string& path) {
  std::string base = config.server.route_prefix + path;
  if (route.compare(0, base.size(), base) != 0) return std::nullopt;
  std::string tail = route.substr(base.size());
  if (!tail.empty() && tail[0] != '/') return std::nullopt;
  if (tail == "/") tail.clear();
  return tail;
}

// The name in a tail "/name" (or "/name/"); "" for an empty tail; nullopt when malformed.
std::optional<std::string> tail_name(const std::string& tail) {
  if (tail.empty()) return std::string();
  std::string name = tail.substr(1);
  if (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      }))
    return std::nullopt;
  return name;
}

// The row whose path the request's route is under; the first row when none is, so
// that a program refuses a stray path as its main route would.
const Route& pick_route(const std::vector<Route>& routes, const Request& request, const Config& config) {
  if (routes.empty()) throw std::logic_error("the program has no route");
  for (const Route& r : routes)
    if (r.path.empty() || route_tail(request.route(), config, r.path)) return r;
  return routes.front();
}

// The name the route's tail carries; nullopt when the request's route is not the row's.
std::optional<std::string> route_name(const Route& route, const Request& request, const Config& config) {
  if (route.path.empty()) return std::string();
  auto tail = route_tail(request.route(), config, route.path);
  if (tail && route.tail == RouteTail::name_then_path) {
    // "/github/user/repos" -> "github": an unknown name is the handler's to refuse.
    std::string name = tail->substr(std::min<size_t>(1, tail->size()));
    name = name.substr(0, name.find('/'));
    return name.empty() ? std::nullopt : std::optional<std::string>(name);
  }
  auto name = tail ? tail_name(*tail) : std::nullopt;
  if (!name) return std::nullopt;
  bool wanted = route.tail == RouteTail::optional_name || (route.tail == RouteTail::name) == !name->empty();
  return wanted ? name : std::nullopt;
}

std::string allow_header(const std::vector<std::string>& methods) {
  std::string allow;
  for (const auto& m : methods)
    allow += (allow.empty() ? "" : ", ") + m;
  return allow;
}

// The route's refusals, or its handler's answer.
Response dispatch(const Route& route, const Request& request, Context& ctx) {
  ctx.error_style = route.error_style;
  const auto& methods = route.methods;
  if (!methods.empty() && std::find(methods.begin(), methods.end(), request.method()) == methods.end())
    return fail(ctx, make_error(ErrorKind::method_not_allowed, route.wrong_method), route.name)
        .add_header("Allow", allow_header(methods));
  auto name = route_name(route, request, ctx.config);
  if (!name) return fail(ctx, make_error(ErrorKind::not_found, route.not_found), route.name);
  ctx.route_name = std::move(*name);
  if (route.reads_session) ctx.session = session_cookie(request, ctx.config);
  if (!route.handler) throw std::logic_error("the program has no handler");
  return route.handler(request, ctx);
}

// The answer to a request within the limits; a handler's failure is a 500.
Response run_route(const Program& program, const Request& request, Context& ctx) {
  try {
    const Route& route = pick_route(program.routes, request, ctx.config);
    Response response = dispatch(route, request, ctx);
    if (response.status < 100 || response.status > 599)
      throw std::logic_error("the handler answered status " + std::to_string(response.status));
    return response;
  } catch (const std::exception& e) {
    ctx.log.error("handler_failed", {{"error", e.what()}});
  } catch (...) {
    ctx.log.error("handler_failed", {{"error", "unknown exception"}});
  }
  return error_answer(ctx, {ErrorKind::internal, kCouldNotHandle});
}

// The request's one log line: never its query or cookies.
void log_request(const Log& log, const Request& request, const Response& response,
                 std::chrono::milliseconds ms, const std::string& refused) {
  // The program name and request id are on every line already.
  LogFields fields{
      {"method", request.method()}, {"route", request.route()}, {"status", std::to_string(response.status)}};
  // What the handler noted (provider=...), without overriding the fields above.
  for (const auto& field : response.log_fields) {
    const std::string& key = field.first;
    bool taken = key == "duration_ms" || key == "refused" ||
                 std::any_of(fields.begin(), fields.end(), [&](const LogField& f) { return f.first == key; });
    if (!taken && !key.empty()) fields.emplace_back(key, field.second);
  }
  fields.emplace_back("duration_ms", std::to_string(ms.count()));
  if (!refused.empty()) fields.emplace_back("refused", refused);
  log.info("request", fields);
}

} // namespace

Program catch_all_program(std::string name, std::string summary, Handler handler, ErrorStyle style) {
  Route any;
  any.name = name;
  any.error_style = style;
  any.handler = std::move(handler);
  return Program{std::move(name), std::move(summary), {std::move(any)}};
}

Response internal_error(const Program& program, const Config& config) {
  ErrorStyle style = program_style(program);
  return error_response({ErrorKind::internal, kCouldNotHandle}, style,
                        style == ErrorStyle::html ? login_path(config) : std::string());
}

Response handle_request(const Program& program, const Request& request, Context& context) {
  try {
    auto start = context.clock.steady();
    Log log = context.log.request_id().empty() ? context.log.with_request_id(new_request_id()) : context.log;
    Context ctx{context.config, context.keys,  context.store, context.http, log,
                context.clock,  context.random};
    ctx.error_style = program_style(program);
    Response response;
    std::string refused;
    auto limits = check_limits(request.env(), ctx.config.limits);
    if (!limits && limits.error().kind == ErrorKind::body_too_large &&
        pick_route(program.routes, request, ctx.config).late_body_limit)
      limits = {};
    if (!limits) {
      refused = limits.error().reason;
      response = error_answer(ctx, limits.error());
    } else {
      response = run_route(program, request, ctx);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.steady() - start);
    log_request(log, request, response, ms, refused);
    return response;
  } catch (...) {
    // Only allocation failure gets here; answer without allocating much.
    return Response::empty(500);
  }
}

} // namespace oauthfcgi
