// oauth-logout: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{"oauth-logout",
                             "serves POST <route_prefix>/logout: ends the session and expires its cookie"};
  program.routes = {oauthfcgi::route("logout")};
  return oauthfcgi::run_program(program, argc, argv);
}
