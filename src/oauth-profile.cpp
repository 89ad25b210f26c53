// oauth-profile: see DESIGN.md "Programs and routes".
#include "handlers.hpp"

int main(int argc, char** argv) {
  return oauthfcgi::run_program(
      {"oauth-profile",
       "serves GET <route_prefix>/profile: the signed-in user as JSON (401 without a session)",
       oauthfcgi::handle_profile, oauthfcgi::ErrorStyle::json},
      argc, argv);
}
