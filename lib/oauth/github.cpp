// GitHub's quirks: rate-limit answers, and the email that /user leaves out.
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
#include "github.hpp"

#include <ctime>

#include "flow.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

std::string utc_time(long epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

bool digits(const std::string* s) {
  return s && !s->empty() && s->size() <= 12 && s->find_first_not_of("0123456789") == std::string::npos;
}

// Primary limit: 403 or 429 with x-ratelimit-remaining: 0 (and a reset time).
// Secondary limit: 403 or 429 with retry-after. Either is a 502 saying when to retry.
std::optional<Error> github_answer_error(const Provider& p, const HttpResponse& r, std::string_view what) {
  if (r.status != 403 && r.status != 429) return std::nullopt;
  const std::string* remaining = r.header("x-ratelimit-remaining");
  const std::string* reset = r.header("x-ratelimit-reset");
  const std::string* retry_after = r.header("retry-after");
  std::string reason;
  if (remaining && *remaining == "0") {
    reason = "GitHub API rate limit exceeded";
    if (digits(reset)) reason += " (it resets at " + utc_time(std::stol(*reset)) + ")";
  } else if (digits(retry_after)) {
    reason = "GitHub secondary rate limit exceeded (retry after " + *retry_after + " s)";
  } else {
    return std::nullopt;
  }
  return make_error(ErrorKind::provider_error, p.name + " " + std::string(what) + ": " + reason);
}

// /user shows only a public email. With the user:email scope /user/emails lists them
// all: take the primary, verified one. Best effort: without it the login still stands.
void github_complete_profile(HttpClient& http, const Provider& p, const HttpRequest& user_request,
                             Profile& profile) {
  if (profile.email || p.emails_url.empty()) return;
  HttpRequest request = user_request;
  request.url = p.emails_url;
  auto emails = http.send(request);
  if (!emails.ok() || emails->status != 200) return;
  if (auto list = json_parse(emails->body); list.ok()) profile.email = primary_verified_email(list->get());
}

} // namespace

Result<std::vector<std::string>> github_orgs(HttpClient& http, const Provider& p, const TokenSet& tokens) {
  auto response = http.send(api_request(p, tokens, p.userinfo_url + "/orgs", {{"per_page", "100"}}));
  if (!response.ok()) return response.error();
  const char* what = "organisations endpoint";
  if (auto e = github_answer_error(p, *response, what)) return *e;
  auto json = json_parse(response->body);
  if (response->status != 200 || !json.ok() || !cJSON_IsArray(json->get()))
    return make_error(ErrorKind::provider_error, p.name + " " + what + " answered HTTP " +
                                                     std::to_string(response->status) +
                                                     (json.ok() ? "" : " with something that is not JSON"));
  std::vector<std::string> orgs;
  const cJSON* org = nullptr;
  cJSON_ArrayForEach(org, json->get()) {
    if (auto login = json_string(org, "login")) orgs.push_back(*login);
  }
  return orgs;
}

ProviderHooks github_hooks() {
  ProviderHooks h;
  h.answer_error = github_answer_error;
  h.complete_profile = github_complete_profile;
  return h;
}

} // namespace oauthfcgi
