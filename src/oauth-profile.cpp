// oauth-profile: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{
      "oauth-profile",
      "serves GET <route_prefix>/profile: the signed-in user as JSON (401 without a session)"};
  program.routes = {oauthfcgi::route("profile")};
  return oauthfcgi::run_program(program, argc, argv);
}
