// oauth-connect: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{"oauth-connect", "serves GET <route_prefix>/connect[/<provider>]: starts a "
                                              "sign-in (state, PKCE, redirect to the provider)"};
  program.routes = {oauthfcgi::route("connect")};
  return oauthfcgi::run_program(program, argc, argv);
}
