// Facebook's functions beyond its row in the table (provider_facebook.cpp), for the tests.
#pragma once

#include <string>
#include <string_view>

namespace oauthfcgi {

// appsecret_proof: hex HMAC-SHA256 of the access token keyed by the app secret. With
// "Require App Secret" on, Graph refuses user-token calls without it.
std::string appsecret_proof(std::string_view app_secret, std::string_view access_token);

} // namespace oauthfcgi
