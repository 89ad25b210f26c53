// oauth-connect: see DESIGN.md "Programs and routes".
#include "handlers.hpp"

int main(int argc, char** argv) {
  return oauthfcgi::run_program({"oauth-connect",
                                 "serves GET <route_prefix>/connect[/<provider>]: starts a sign-in (state, "
                                 "PKCE, redirect to the provider)",
                                 oauthfcgi::handle_connect, oauthfcgi::ErrorStyle::html},
                                argc, argv);
}
