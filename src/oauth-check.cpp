// oauth-check: see DESIGN.md "Programs and routes".
#include "handlers.hpp"

int main(int argc, char** argv) {
  return oauthfcgi::run_program({"oauth-check",
                                 "serves <route_prefix>/check for nginx auth_request and Apache FastCGI "
                                 "authorizers: 200 + identity headers, or 401",
                                 oauthfcgi::handle_check, oauthfcgi::ErrorStyle::status_only},
                                argc, argv);
}
