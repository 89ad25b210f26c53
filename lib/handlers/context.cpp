// The answer to a handler's error, in the style of its route.
#include "context.hpp"

namespace oauthfcgi {

std::string login_path(const Config& config) {
  return config.server.route_prefix + "/connect";
}

Response error_answer(const Context& context, const Error& error) {
  ErrorNotes notes{context.provider_display, context.log.request_id()};
  if (context.error_style == ErrorStyle::html)
    return error_response(error, ErrorStyle::html, login_path(context.config), notes);
  return error_response(error, context.error_style, {}, notes);
}

Response fail(const Context& context, const Error& error, std::string_view event) {
  int status = http_status(error.kind);
  LogFields fields = {{"status", std::to_string(status)}, {"reason", error.reason}};
  if (status >= 500)
    context.log.error(event, fields);
  else
    context.log.info(event, fields);
  return error_answer(context, error);
}

} // namespace oauthfcgi
