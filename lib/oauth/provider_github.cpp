// Provider type github (and GitHub Enterprise Server): its endpoints and headers, the
// /user document, rate-limit answers, the email that /user leaves out, organisations,
// and revocation.
// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
#include "provider_github.hpp"

#include <ctime>

#include "flow.hpp"
#include "provider_types.hpp"
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

// GitHub Enterprise Server: the section overrides the endpoints (https://HOST/login/oauth/...,
// https://HOST/api/v3/user).
void github_defaults(const ProviderConfig& c, Provider& p) {
  default_if_empty(p.authorize_url, "https://github.com/login/oauth/authorize");
  default_if_empty(p.token_url, "https://github.com/login/oauth/access_token");
  default_if_empty(p.userinfo_url, "https://api.github.com/user");
  default_if_empty(p.emails_url, "https://api.github.com/user/emails");
  default_if_empty(p.api_url, "https://api.github.com");
  if (!c.scope_set) p.scope = {"read:user", "user:email"};
  // GitHub refuses API calls without a User-Agent.
  p.api_headers = {{"Accept", "application/vnd.github+json"},
                   {"X-GitHub-Api-Version", "2022-11-28"},
                   {"User-Agent", "oauth-fcgi"}};
}

// /user: a numeric id and the login.
void github_profile(const cJSON* user, Profile& p) {
  p.id = json_id(user, "id").value_or("");
  p.login = first_string(user, {"login"});
  p.name = first_string(user, {"name"});
  p.email = first_string(user, {"email"});
  // GitHub lets only a verified address be the public one; complete_profile adds only
  // the primary verified one.
  p.email_verified = true;
  p.avatar_url = first_string(user, {"avatar_url"});
}

// https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
// DELETE /applications/{client_id}/token with Basic client_id:client_secret and
// {"access_token": "…"}; 204 when done. Only the token goes, not the user's
// authorization of the app (that is DELETE …/grant, which would force a new consent).
Result<Revocation> revoke_github(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  std::string url = github_revoke_url(p);
  if (url.empty()) return Revocation::no_endpoint;
  if (!live_token(t.access_token, t.expires_at, now)) return Revocation::no_live_token;
  HttpRequest request;
  request.method = "DELETE";
  request.url = std::move(url);
  request.headers = p.api_headers; // Accept: application/vnd.github+json, X-GitHub-Api-Version
  request.headers.emplace_back("Content-Type", "application/json");
  Json body = json_object();
  json_set_string(body.get(), "access_token", t.access_token);
  request.body = json_print(body.get());
  // Plain HTTP Basic as the app. (The client sends both form-encoded, RFC 6749 2.3.1,
  // which changes nothing for GitHub's client ids and hex secrets.)
  request.basic_user = p.config->client_id;
  request.basic_password = p.config->client_secret;
  return send_revocation(http, p, request);
}

} // namespace

Result<std::vector<std::string>> github_orgs(HttpClient& http, const Provider& p, const TokenSet& tokens) {
  auto response = http.send(api_request(p, tokens, p.userinfo_url + "/orgs", {{"per_page", "100"}}));
  if (!response.ok()) return response.error();
  const char* what = "organisations endpoint";
  if (auto e = github_answer_error(p, *response, what)) return *e;
  auto json = json_parse(response->body);
  if (response->status != 200 || !json.ok() || !cJSON_IsArray(json->get()))
    return make_error(ErrorKind::provider_error,
                      p.name + " " + what + " answered HTTP " + std::to_string(response->status) +
                          (json.ok() ? "" : " with " + json_refusal(json.error())));
  std::vector<std::string> orgs;
  const cJSON* org = nullptr;
  cJSON_ArrayForEach(org, json->get()) {
    if (auto login = json_string(org, "login")) orgs.push_back(*login);
  }
  return orgs;
}

std::optional<std::string> primary_verified_email(const cJSON* emails) {
  if (!cJSON_IsArray(emails)) return std::nullopt;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, emails) {
    if (json_bool(item, "primary") == std::optional<bool>(true) &&
        json_bool(item, "verified") == std::optional<bool>(true))
      return json_string(item, "email");
  }
  return std::nullopt;
}

std::string github_revoke_url(const Provider& p) {
  if (!p.revoke_url.empty()) return p.revoke_url;
  const std::string suffix = "/user";
  if (!ends_with(p.userinfo_url, suffix)) return {};
  std::string base = p.userinfo_url.substr(0, p.userinfo_url.size() - suffix.size());
  return base + "/applications/" + url_encode(p.config->client_id) + "/token";
}

ProviderTypeInfo github_type() {
  ProviderTypeInfo t(ProviderType::github, "github", github_defaults, github_profile, revoke_github);
  t.display_name = "GitHub";
  t.hooks.answer_error = github_answer_error;
  t.hooks.complete_profile = github_complete_profile;
  t.takes_github_orgs = true;
  return t;
}

} // namespace oauthfcgi
