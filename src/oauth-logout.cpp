// oauth-logout: see DESIGN.md "Programs and routes".
#include "handlers.hpp"

int main(int argc, char** argv) {
  return oauthfcgi::run_program({"oauth-logout",
                                 "serves POST <route_prefix>/logout: ends the session and expires its cookie",
                                 oauthfcgi::handle_logout, oauthfcgi::ErrorStyle::html},
                                argc, argv);
}
