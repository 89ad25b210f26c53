// A browser for integration tests: real libcurl traffic with a cookie jar, redirects
// followed by hand so each hop can be asserted.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace testutil {

struct Page {
  long status = 0;
  std::multimap<std::string, std::string> headers; // lower-case names
  std::string body;
  std::string header(const std::string& name) const;
  std::string location() const { return header("location"); }
};

class Browser {
public:
  Browser();
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // One request; extra headers as "Name: value".
  Page request(const std::string& method, const std::string& url,
               const std::vector<std::string>& headers = {}, const std::string& body = {});
  Page get(const std::string& url, const std::vector<std::string>& headers = {}) {
    return request("GET", url, headers);
  }
  // Follows 30x (relative Locations resolved against base) up to max hops; returns the last page.
  Page follow(Page page, const std::string& base, int max = 10);
  // The visited URLs of the last follow().
  std::vector<std::string> trail;
  // Cookie value in the jar, or "" (name matched exactly).
  std::string cookie(const std::string& name);
  void set_cookie(const std::string& host, const std::string& name, const std::string& value);
  void clear_cookies();

private:
  CURL* curl_;
};

// Every cookie value and every `code` and `state` parameter the browsers of this
// process sent or received (16+ characters), for the suite's leak scan.
std::vector<std::string> seen_secrets();

// curl_easy_escape of s.
std::string escape(const std::string& s);

} // namespace testutil
