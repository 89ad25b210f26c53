// oauth-callback: see DESIGN.md "Programs and routes".
#include "handlers.hpp"

int main(int argc, char** argv) {
  return oauthfcgi::run_program(
      {"oauth-callback",
       "serves GET <route_prefix>/callback/<provider>: finishes a sign-in and sets the session cookie",
       oauthfcgi::handle_callback, oauthfcgi::ErrorStyle::html},
      argc, argv);
}
