// oauth-fetch's command line: its curl-like flags (parse_fetch_flags) and its
// --help. The program itself is src/oauth-fetch.cpp.
#pragma once

#include <optional>
#include <string>

#include "error.hpp"
#include "http_client.hpp"

namespace oauthfcgi {

struct FetchFlags {
  std::optional<std::string> config, client, method;
  Headers headers;
  std::optional<std::string> data; // -d values joined with '&', @FILE and @- read
  bool include = false, verbose = false, help = false, version = false;
  std::string url;
};

// The flags, or a reason to print before the usage (exit 2).
Result<FetchFlags> parse_fetch_flags(int argc, const char* const* argv);

// The short usage printed after a flag error, and the whole --help.
extern const char* const kFetchUsage;
std::string fetch_help_text();

} // namespace oauthfcgi
