// The route table of the five programs (routes.cpp): for each route its path,
// methods, error style, whether it reads the session cookie, and its handler.
#pragma once

#include <string_view>
#include <vector>

#include "serve.hpp"

namespace oauthfcgi {

const std::vector<Route>& route_table();
// The row named name ("connect"); std::out_of_range for a name not in the table.
const Route& route(std::string_view name);

} // namespace oauthfcgi
