// oauth-api: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{"oauth-api", "serves ANY <route_prefix>/api/<provider>/<path>: the provider's "
                                          "API called as the signed-in user (api_allow says what)"};
  program.routes = {oauthfcgi::route("api")};
  return oauthfcgi::run_program(program, argc, argv);
}
