// The authorization-code flow with PKCE: authorize URL, code exchange, user fetch, refresh (flow.hpp).
#include "flow.hpp"

#include <algorithm>
#include <cctype>

#include "crypto.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

bool looks_like_html(const HttpResponse& r) {
  if (content_type(r) == "text/html") return true;
  auto first = r.body.find_first_not_of(" \t\r\n");
  return first != std::string::npos && r.body[first] == '<';
}

bool success(const HttpResponse& r) {
  return r.status >= 200 && r.status <= 299;
}

Error provider_error(const Provider& p, std::string_view what, const std::string& problem) {
  return make_error(ErrorKind::provider_error, p.name + " " + std::string(what) + " " + problem);
}

// What a failed answer says about itself, if it is JSON with a message: GitHub's
// {"message"}, RFC 6749's {"error","error_description"}.
std::string own_words(const HttpResponse& r) {
  auto json = json_parse(r.body);
  if (!json.ok() || !cJSON_IsObject(json->get())) return {};
  for (const char* key : {"message", "error_description", "error"})
    if (auto text = json_string(json->get(), key); text && !text->empty())
      return ": " + printable_excerpt(*text, 120);
  return {};
}

Error with_secrets_removed(Error e, std::initializer_list<std::string_view> values) {
  e.reason = redact_values(std::move(e.reason), values);
  return e;
}

struct TokenAnswer {
  bool scope_given = false;
  std::string error; // the answer's "error" code, when it refused
};
Result<TokenSet> parse_token_answer(const Provider& p, const HttpResponse& r, long now, std::string_view what,
                                    TokenAnswer* answer);

} // namespace

std::string content_type(const HttpResponse& r) {
  const std::string* ct = r.header("content-type");
  if (!ct) return {};
  std::string type = ascii_lowercase(ct->substr(0, ct->find(';')));
  type.erase(type.find_last_not_of(" \t") + 1);
  return type;
}

Result<Json> json_answer(const Provider& p, const HttpResponse& r, std::string_view what) {
  if (p.hooks.answer_error)
    if (auto e = p.hooks.answer_error(p, r, what)) return *e;
  if (r.status == 401)
    return make_error(ErrorKind::token_rejected, p.name + " " + std::string(what) +
                                                     " refused the access token (HTTP 401" + own_words(r) +
                                                     ")");
  if (!success(r)) return provider_error(p, what, "answered HTTP " + std::to_string(r.status) + own_words(r));
  if (looks_like_html(r)) return provider_error(p, what, "answered HTML where JSON was expected");
  auto json = json_parse(r.body);
  if (!json.ok()) return provider_error(p, what, "answered " + json_refusal(json.error()));
  if (!cJSON_IsObject(json->get())) return provider_error(p, what, "answered JSON that is not an object");
  return json;
}

HttpRequest api_request(const Provider& p, const TokenSet& tokens, const std::string& url,
                        const Params& params) {
  HttpRequest request = http_get(url, p.api_headers);
  if (!params.empty()) {
    auto with_query = append_query(url, params);
    request.url = with_query.ok() ? *with_query : url;
  }
  request.headers.emplace_back("Authorization", "Bearer " + tokens.access_token);
  if (p.hooks.sign_api_request) p.hooks.sign_api_request(p, tokens, request);
  return request;
}

HttpRequest client_form_post(const std::string& url, Params form, const std::string& client_id,
                             const std::string& client_secret, bool basic) {
  if (!basic) form.insert(form.end(), {{"client_id", client_id}, {"client_secret", client_secret}});
  HttpRequest request = http_post_form(url, form, {{"Accept", "application/json"}});
  if (basic) {
    request.basic_user = client_id;
    request.basic_password = client_secret;
  }
  return request;
}

Pkce new_pkce(const Random& random) {
  Pkce p;
  p.verifier = random.token(32);
  p.challenge = base64url_encode(sha256(p.verifier));
  return p;
}

Result<std::string> authorize_url(const Provider& p, const std::string& redirect_uri,
                                  const std::string& state, const std::string& code_challenge,
                                  const std::string& nonce) {
  Params params = {{"response_type", "code"},
                   {"client_id", p.config->client_id},
                   {"redirect_uri", redirect_uri},
                   {"state", state}};
  if (!p.scope.empty()) params.emplace_back("scope", join_scopes(p.scope));
  if (p.pkce) {
    params.emplace_back("code_challenge", code_challenge);
    params.emplace_back("code_challenge_method", "S256");
  }
  if (!nonce.empty()) params.emplace_back("nonce", nonce);
  params.insert(params.end(), p.authorize_params.begin(), p.authorize_params.end());
  return append_query(p.authorize_url, params);
}

Result<TokenSet> parse_token_response(const Provider& p, const HttpResponse& r, long now,
                                      std::string_view what) {
  return parse_token_answer(p, r, now, what, nullptr);
}

namespace {

// A token endpoint's answer as fields: JSON, or the older form encoding (GitHub without
// Accept: application/json; Facebook before Graph v2.3, as text/plain).
class AnswerFields {
public:
  static Result<AnswerFields> read(const Provider& p, const HttpResponse& r, std::string_view what) {
    AnswerFields a;
    std::string ct = content_type(r);
    if (ct == "application/x-www-form-urlencoded" || ct == "text/plain") {
      a.form_ = parse_query(r.body);
      return a;
    }
    if (looks_like_html(r)) {
      if (!success(r)) return provider_error(p, what, "answered HTTP " + std::to_string(r.status));
      return provider_error(p, what, "answered HTML where JSON was expected");
    }
    auto parsed = json_parse(r.body);
    if (!parsed.ok() || !cJSON_IsObject(parsed->get())) {
      if (!success(r)) return provider_error(p, what, "answered HTTP " + std::to_string(r.status));
      return provider_error(p, what,
                            parsed.ok() ? "answered JSON that is not an object"
                                        : "answered " + json_refusal(parsed.error()));
    }
    a.json_ = std::move(parsed.value());
    return a;
  }

  std::optional<std::string> field(const char* name) const {
    if (json_) return json_string(json_.get(), name);
    ParamLookup l = find_param(form_, name);
    if (l.state != ParamState::single) return std::nullopt;
    return l.value;
  }

  // A count of seconds; 0 when absent or not a number of at most 12 digits.
  long number(const char* name) const {
    if (json_) {
      if (auto n = json_integer(json_.get(), name)) return *n;
    }
    auto s = field(name);
    if (!s || s->size() > 12) return 0;
    return static_cast<long>(parse_uint(*s).value_or(0));
  }

private:
  Json json_;
  Params form_;
};

// parse_token_response, saying also what a refresh needs: whether the answer named
// its scope, and the RFC 6749 error code of a refusal.
Result<TokenSet> parse_token_answer(const Provider& p, const HttpResponse& r, long now, std::string_view what,
                                    TokenAnswer* answer) {
  if (p.hooks.answer_error)
    if (auto e = p.hooks.answer_error(p, r, what)) return *e;
  auto fields = AnswerFields::read(p, r, what);
  if (!fields) return fields.error();
  if (auto error = fields->field("error")) {
    if (answer) answer->error = *error;
    std::string reason = p.name + " " + std::string(what) + " refused: " + printable_excerpt(*error, 64);
    if (auto description = fields->field("error_description"))
      reason += " (" + printable_excerpt(*description, 120) + ")";
    return make_error(ErrorKind::provider_error, reason);
  }
  if (!success(r)) return provider_error(p, what, "answered HTTP " + std::to_string(r.status));
  TokenSet t;
  auto access = fields->field("access_token");
  if (!access || access->empty()) return provider_error(p, what, "answered without an access_token");
  t.access_token = *access;
  t.token_type = fields->field("token_type").value_or("bearer");
  if (ascii_lowercase(t.token_type) != "bearer")
    return make_error(ErrorKind::provider_error, p.name + " issued a token of type \"" +
                                                     printable_excerpt(t.token_type, 32) + "\", not bearer");
  t.refresh_token = fields->field("refresh_token").value_or("");
  // RFC 6749 5.1: no scope in the answer means the scope asked for.
  auto scope = fields->field("scope");
  if (answer) answer->scope_given = scope.has_value();
  t.scope = scope ? join_scopes(split_scopes(*scope)) : join_scopes(p.scope);
  t.id_token = fields->field("id_token").value_or("");
  // "expires" is Facebook's name before Graph v2.3.
  long expires_in = fields->number("expires_in");
  if (expires_in <= 0) expires_in = fields->number("expires");
  if (expires_in > 0) t.expires_at = now + expires_in;
  if (long refresh_in = fields->number("refresh_token_expires_in"); refresh_in > 0)
    t.refresh_expires_at = now + refresh_in;
  return t;
}

} // namespace

Result<TokenSet> exchange_code(HttpClient& http, const Provider& p, const std::string& redirect_uri,
                               const std::string& code, const std::string& verifier, long now) {
  const std::string& secret = p.config->client_secret;
  Params params;
  if (p.send_grant_type) params.emplace_back("grant_type", "authorization_code");
  // RFC 6749 2.3.1: Basic or the form, never both.
  if (!p.basic_auth) params.insert(params.end(), {{"client_id", p.config->client_id}});
  params.insert(params.end(), {{"redirect_uri", redirect_uri}, {"code", code}});
  if (!p.basic_auth) params.emplace_back("client_secret", secret);
  if (p.pkce) params.emplace_back("code_verifier", verifier);
  HttpRequest request;
  if (p.token_request == TokenRequestStyle::get_query) {
    auto url = append_query(p.token_url, params);
    if (!url.ok()) return url.error();
    request = http_get(*url, {{"Accept", "application/json"}});
  } else {
    request = http_post_form(p.token_url, params, {{"Accept", "application/json"}});
  }
  if (p.basic_auth) {
    request.basic_user = p.config->client_id;
    request.basic_password = secret;
  }
  auto response = http.send(request);
  if (!response.ok()) return response.error();
  auto tokens = parse_token_response(p, *response, now);
  if (!tokens.ok()) return with_secrets_removed(tokens.error(), {code, verifier, secret});
  if (p.hooks.finish_tokens) {
    if (auto finished = p.hooks.finish_tokens(http, p, *tokens, now); !finished.ok())
      return with_secrets_removed(finished.error(), {code, verifier, secret, tokens->access_token});
  }
  return tokens;
}

Result<Profile> fetch_profile(HttpClient& http, const Provider& p, const TokenSet& tokens) {
  HttpRequest request = api_request(p, tokens, p.userinfo_url, p.userinfo_params);
  auto response = http.send(request);
  if (!response.ok()) return response.error();
  auto hide = {std::string_view(tokens.access_token), std::string_view(p.config->client_secret)};
  auto user = json_answer(p, *response, "user endpoint");
  if (!user.ok()) return with_secrets_removed(user.error(), hide);
  auto profile = normalize_profile(p, user->get());
  if (!profile.ok()) return profile;
  if (!tokens.subject.empty() && profile->id != tokens.subject)
    return make_error(ErrorKind::provider_error,
                      p.name + " gave a token for one user and the profile of another");
  if (p.hooks.complete_profile) p.hooks.complete_profile(http, p, request, *profile);
  return profile;
}

bool refreshable(const Provider& p, const TokenSet& t, long now) {
  return p.token_request == TokenRequestStyle::post_form && !t.refresh_token.empty() &&
         (t.refresh_expires_at == 0 || now < t.refresh_expires_at);
}

Result<TokenSet> refresh_tokens(HttpClient& http, const Provider& p, const TokenSet& old, long now) {
  if (!refreshable(p, old, now))
    return make_error(ErrorKind::unauthenticated,
                      p.name + " gave no refresh token that is still valid: the sign-in has ended");
  const std::string& secret = p.config->client_secret;
  // The code exchange's client authentication (GitHub: the form).
  auto response = http.send(
      client_form_post(p.token_url, {{"grant_type", "refresh_token"}, {"refresh_token", old.refresh_token}},
                       p.config->client_id, secret, p.basic_auth));
  if (!response.ok()) return response.error();
  TokenAnswer answer;
  auto fresh = parse_token_answer(p, *response, now, "token endpoint (refresh)", &answer);
  if (!fresh.ok()) {
    Error e = with_secrets_removed(fresh.error(), {old.refresh_token, old.access_token, secret});
    // RFC 6749 5.2 invalid_grant (GitHub: bad_refresh_token): the refresh token is
    // expired, revoked or used; only a new sign-in helps.
    if (answer.error == "invalid_grant" || answer.error == "bad_refresh_token")
      return make_error(ErrorKind::unauthenticated,
                        p.name + " ended the sign-in (" + answer.error + "): " + e.reason);
    return e;
  }
  TokenSet t = std::move(fresh.value());
  // RFC 6749 6: a server that does not rotate (Google) sends no new refresh token.
  if (t.refresh_token.empty()) {
    t.refresh_token = old.refresh_token;
    if (t.refresh_expires_at == 0) t.refresh_expires_at = old.refresh_expires_at;
  }
  if (!answer.scope_given) t.scope = old.scope; // RFC 6749 5.1: unchanged when not said
  if (t.id_token.empty()) t.id_token = old.id_token;
  return t;
}

} // namespace oauthfcgi
