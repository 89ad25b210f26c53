// oauth-check: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{"oauth-check", "serves <route_prefix>/check for nginx auth_request and Apache "
                                            "FastCGI authorizers: 200 + identity headers, or 401"};
  program.routes = {oauthfcgi::route("check")};
  return oauthfcgi::run_program(program, argc, argv);
}
