#include "flow.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "crypto.hpp"
#include "json.hpp"

namespace oauthfcgi {
namespace {

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(sep);
    out += p;
  }
  return out;
}

std::string content_type(const HttpResponse& r) {
  const std::string* ct = r.header("content-type");
  if (!ct) return {};
  return ascii_lowercase(ct->substr(0, ct->find(';')));
}

bool looks_like_html(const HttpResponse& r) {
  if (content_type(r) == "text/html") return true;
  auto first = r.body.find_first_not_of(" \t\r\n");
  return first != std::string::npos && r.body[first] == '<';
}

Result<Json> parse_json_answer(const Provider& p, const HttpResponse& r, const char* what) {
  if (looks_like_html(r))
    return make_error(ErrorKind::provider_error,
                      p.name + " " + what + " answered HTML where JSON was expected");
  auto json = json_parse(r.body);
  if (!json.ok())
    return make_error(ErrorKind::provider_error,
                      p.name + " " + what + " answered something that is not JSON");
  return json;
}

} // namespace

long unix_now() {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

Pkce new_pkce() {
  Pkce p;
  p.verifier = random_token(32);
  p.challenge = base64url_encode(sha256(p.verifier));
  return p;
}

Result<std::string> authorize_url(const Provider& p, const std::string& redirect_uri,
                                  const std::string& state, const std::string& code_challenge) {
  Params params = {{"response_type", "code"},
                   {"client_id", p.config->client_id},
                   {"redirect_uri", redirect_uri},
                   {"state", state}};
  if (!p.scope.empty()) params.emplace_back("scope", join(p.scope, ' '));
  if (p.pkce) {
    params.emplace_back("code_challenge", code_challenge);
    params.emplace_back("code_challenge_method", "S256");
  }
  return append_query(p.authorize_url, params);
}

Result<TokenSet> parse_token_response(const Provider& p, const HttpResponse& r, long now) {
  std::string ct = content_type(r);
  Params fields;
  Json json;
  bool form = ct == "application/x-www-form-urlencoded" || ct == "text/plain";
  if (!form) {
    auto parsed = parse_json_answer(p, r, "token endpoint");
    if (!parsed.ok()) {
      if (r.status < 200 || r.status > 299)
        return make_error(ErrorKind::provider_error,
                          p.name + " token endpoint answered HTTP " + std::to_string(r.status));
      return parsed.error();
    }
    json = std::move(parsed.value());
    if (!cJSON_IsObject(json.get()))
      return make_error(ErrorKind::provider_error,
                        p.name + " token endpoint answered JSON that is not an object");
  } else {
    fields = parse_query(r.body);
  }
  auto field = [&](const char* name) -> std::optional<std::string> {
    if (json) return json_string(json.get(), name);
    ParamLookup l = find_param(fields, name);
    if (l.state != ParamState::single) return std::nullopt;
    return l.value;
  };
  auto number = [&](const char* name) -> long {
    if (json) {
      if (auto n = json_number(json.get(), name)) return static_cast<long>(*n);
    }
    auto s = field(name);
    if (!s || s->empty() || s->size() > 12 || !std::all_of(s->begin(), s->end(), ::isdigit)) return 0;
    return std::stol(*s);
  };
  if (auto error = field("error")) {
    std::string reason = p.name + " refused the code: " + printable_excerpt(*error, 64);
    if (auto description = field("error_description"))
      reason += " (" + printable_excerpt(*description, 120) + ")";
    return make_error(ErrorKind::provider_error, reason);
  }
  if (r.status < 200 || r.status > 299)
    return make_error(ErrorKind::provider_error,
                      p.name + " token endpoint answered HTTP " + std::to_string(r.status));
  TokenSet t;
  auto access = field("access_token");
  if (!access || access->empty())
    return make_error(ErrorKind::provider_error, p.name + " token endpoint answered without an access_token");
  t.access_token = *access;
  t.token_type = field("token_type").value_or("bearer");
  if (ascii_lowercase(t.token_type) != "bearer")
    return make_error(ErrorKind::provider_error, p.name + " issued a token of type \"" +
                                                     printable_excerpt(t.token_type, 32) + "\", not bearer");
  t.refresh_token = field("refresh_token").value_or("");
  t.scope = field("scope").value_or("");
  t.id_token = field("id_token").value_or("");
  if (long expires_in = number("expires_in"); expires_in > 0) t.expires_at = now + expires_in;
  if (long refresh_in = number("refresh_token_expires_in"); refresh_in > 0)
    t.refresh_expires_at = now + refresh_in;
  return t;
}

Result<TokenSet> exchange_code(HttpClient& http, const Provider& p, const std::string& redirect_uri,
                               const std::string& code, const std::string& verifier, long now) {
  Params form = {{"grant_type", "authorization_code"},
                 {"code", code},
                 {"redirect_uri", redirect_uri},
                 {"client_id", p.config->client_id},
                 {"client_secret", p.config->client_secret}};
  if (p.pkce) form.emplace_back("code_verifier", verifier);
  auto response = http.send(http_post_form(p.token_url, form, {{"Accept", "application/json"}}));
  if (!response.ok()) return response.error();
  return parse_token_response(p, *response, now);
}

Result<Profile> fetch_profile(HttpClient& http, const Provider& p, const TokenSet& tokens) {
  Headers headers = p.api_headers;
  headers.emplace_back("Authorization", "Bearer " + tokens.access_token);
  auto response = http.send(http_get(p.userinfo_url, headers));
  if (!response.ok()) return response.error();
  if (response->status == 401)
    return make_error(ErrorKind::provider_error,
                      p.name + " refused the access token at its user endpoint (HTTP 401)");
  if (response->status < 200 || response->status > 299)
    return make_error(ErrorKind::provider_error,
                      p.name + " user endpoint answered HTTP " + std::to_string(response->status));
  auto user = parse_json_answer(p, *response, "user endpoint");
  if (!user.ok()) return user.error();
  if (!cJSON_IsObject(user->get()))
    return make_error(ErrorKind::provider_error,
                      p.name + " user endpoint answered JSON that is not an object");
  auto profile = normalize_profile(p, user->get());
  if (!profile.ok()) return profile;
  if (p.type == ProviderType::github && !profile->email && !p.emails_url.empty()) {
    // Best effort: without user:email scope GitHub refuses, and the login still stands.
    auto emails = http.send(http_get(p.emails_url, headers));
    if (emails.ok() && emails->status == 200) {
      if (auto list = json_parse(emails->body); list.ok())
        profile->email = primary_verified_email(list->get());
    }
  }
  return profile;
}

} // namespace oauthfcgi
