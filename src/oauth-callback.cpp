// oauth-callback: see docs/routes.md; its route: lib/serve/routes.cpp.
#include "routes.hpp"

int main(int argc, char** argv) {
  oauthfcgi::Program program{
      "oauth-callback",
      "serves GET <route_prefix>/callback/<provider>: finishes a sign-in and sets the session cookie"};
  program.routes = {oauthfcgi::route("callback")};
  return oauthfcgi::run_program(program, argc, argv);
}
