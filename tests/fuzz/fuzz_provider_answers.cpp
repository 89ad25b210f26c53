// Everything a provider (or something pretending to be one) sends back: token
// answers in JSON or form encoding for each provider type, user documents (and the
// email_verified flag, members named twice), Graph errors, GitHub rate limits,
// discovery documents, JWK sets and ID tokens.
// Input: kind byte, then content-type\nbody.
#include "fake_http.hpp"
#include "flow.hpp"
#include "fuzz_common.hpp"
#include "jose.hpp"
#include "oidc.hpp"

using namespace oauthfcgi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const Config& config = fuzz::config();
  const ProviderConfig& pc = config.providers[data[0] % config.providers.size()];
  auto p = fuzz::parts(fuzz::as_text(data + 2, size - 2), 2);
  auto provider = resolve_provider(pc);
  if (!provider.ok()) return 0;
  HttpResponse r;
  r.status = 200 + (data[1] % 4) * 100; // 200, 300, 400, 500
  r.headers = {{"content-type", p[0]}, {"x-ratelimit-remaining", "0"}, {"retry-after", "60"}};
  r.body = p[1];
  // What json_parse would refuse still reaches the duplicate check and the flag reader.
  if (Json raw{cJSON_ParseWithLength(r.body.data(), r.body.size())}) {
    (void)json_duplicate_member(raw.get());
    (void)json_flag(raw.get(), "email_verified");
    (void)json_flag(raw.get(), "verified");
  }
  switch (data[1] % 5) {
  case 0: (void)parse_token_response(*provider, r, 1000); break;
  case 1:
    if (auto json = json_answer(*provider, r, "user endpoint"); json.ok())
      (void)normalize_profile(*provider, json->get());
    break;
  case 2:
    if (auto doc = json_parse_object(r.body); doc.ok()) (void)apply_discovery(*provider, doc->get());
    break;
  case 3:
    if (auto jwks = JwkSet::parse(p[0]); jwks.ok())
      if (auto jws = parse_jws(p[1]); jws.ok()) {
        (void)jwks->has_key_for(*jws);
        (void)verify_jws(*jws, *jwks, {"RS256", "PS256", "ES256", "EdDSA", "HS256", "none"});
      }
    break;
  case 4:
    if (auto jws = parse_jws(r.body); jws.ok())
      (void)check_id_token_claims(jws->payload.get(), "http://127.0.0.1:9/oidc", "sso", "n", 1000);
    break;
  }
  return 0;
}
