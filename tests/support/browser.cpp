#include "browser.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace testutil {
namespace {

size_t on_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* out) {
  auto* headers = static_cast<std::multimap<std::string, std::string>*>(out);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' '))
      value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    headers->emplace(name, value);
  }
  return size * n;
}

std::mutex seen_mu;
std::vector<std::string> seen;

void remember(std::string value) {
  if (value.size() < 16) return;
  std::lock_guard<std::mutex> lock(seen_mu);
  if (std::find(seen.begin(), seen.end(), value) == seen.end()) seen.push_back(std::move(value));
}

// code=… and state=… of a URL, still percent-encoded (ours are base64url: no escapes).
void remember_params(const std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return;
  std::string query =
      url.substr(q + 1, url.find('#') == std::string::npos ? std::string::npos : url.find('#') - q - 1);
  size_t at = 0;
  while (at < query.size()) {
    size_t amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    for (const char* name : {"code=", "state="})
      if (pair.rfind(name, 0) == 0) remember(pair.substr(std::strlen(name)));
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
}

} // namespace

std::vector<std::string> seen_secrets() {
  std::lock_guard<std::mutex> lock(seen_mu);
  return seen;
}

std::string Page::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

Browser::Browser() : curl_(curl_easy_init()) {
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, ""); // enable the in-memory jar
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30000L);
}

Browser::~Browser() {
  curl_easy_cleanup(curl_);
}

Page Browser::request(const std::string& method, const std::string& url,
                      const std::vector<std::string>& headers, const std::string& body) {
  Page page;
  curl_slist* list = nullptr;
  for (const auto& h : headers)
    list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &page.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &page.headers);
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  if (method == "GET") {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
  } else if (method == "POST") {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl_);
  curl_slist_free_all(list);
  remember_params(url);
  for (auto [it, end] = page.headers.equal_range("set-cookie"); it != end; ++it) {
    auto eq = it->second.find('='), semi = it->second.find(';');
    if (eq != std::string::npos)
      remember(it->second.substr(eq + 1, semi == std::string::npos ? semi : semi - eq - 1));
  }
  remember_params(page.header("location"));
  if (rc != CURLE_OK) {
    page.status = -1;
    page.body = curl_easy_strerror(rc);
    return page;
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &page.status);
  return page;
}

Page Browser::follow(Page page, const std::string& base, int max) {
  trail.clear();
  while (max-- > 0 && page.status >= 300 && page.status < 400 && !page.location().empty()) {
    std::string next = page.location();
    if (next[0] == '/') next = base + next;
    trail.push_back(next);
    page = get(next);
  }
  return page;
}

std::string Browser::cookie(const std::string& name) {
  curl_slist* cookies = nullptr;
  curl_easy_getinfo(curl_, CURLINFO_COOKIELIST, &cookies);
  std::string value;
  for (curl_slist* c = cookies; c; c = c->next) {
    // Netscape format: domain, flag, path, secure, expiry, name, value (tab separated).
    std::vector<std::string> f;
    std::string line = c->data;
    size_t start = 0, tab;
    while ((tab = line.find('\t', start)) != std::string::npos) {
      f.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    f.push_back(line.substr(start));
    if (f.size() >= 7 && f[5] == name) value = f[6];
  }
  curl_slist_free_all(cookies);
  return value;
}

void Browser::set_cookie(const std::string& host, const std::string& name, const std::string& value) {
  std::string line = host + "\tFALSE\t/\tFALSE\t0\t" + name + "\t" + value;
  curl_easy_setopt(curl_, CURLOPT_COOKIELIST, line.c_str());
}

void Browser::clear_cookies() {
  curl_easy_setopt(curl_, CURLOPT_COOKIELIST, "ALL");
}

std::string escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  return out;
}

} // namespace testutil
