// JWS and JWK over OpenSSL 3: the signature checks of ID tokens (jose.hpp).
#include "jose.hpp"
#include "openssl_handles.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstring>
#include <optional>

#include "crypto.hpp"

namespace oauthfcgi {

void EvpPkeyFree::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

namespace {

using namespace openssl;

// Errors OpenSSL queues while we refuse untrusted input are ours to drop, not the caller's.
class ErrMark {
public:
  ErrMark() { ERR_set_mark(); }
  ~ErrMark() { ERR_pop_to_mark(); }
  ErrMark(const ErrMark&) = delete;
  ErrMark& operator=(const ErrMark&) = delete;
};

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Error refuse(std::string reason) {
  return make_error(ErrorKind::provider_error, std::move(reason));
}

constexpr std::string_view kBase64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Unpadded, canonical base64url only: no '=', no whitespace, no other alphabet, no stray bits.
std::optional<std::string> b64url_strict(std::string_view text) {
  if (text.find_first_not_of(kBase64url) != std::string_view::npos) return std::nullopt;
  auto bytes = base64url_decode(text);
  if (!bytes.ok() || base64url_encode(*bytes) != text) return std::nullopt;
  return std::move(bytes).value();
}

// A string member: absent -> "", a string -> its value, anything else -> nullopt (malformed).
std::optional<std::string> optional_string(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!item) return std::string();
  if (!cJSON_IsString(item) || !item->valuestring) return std::nullopt;
  return std::string(item->valuestring);
}

// Untrusted text put into a reason only when it is a short plain label.
std::string label(std::string_view s) {
  if (s.empty() || s.size() > 16 ||
      s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-+_") !=
          std::string_view::npos)
    return "(unprintable)";
  return std::string(s);
}

enum class Family { rsa_pkcs1, rsa_pss, ecdsa, eddsa };

struct Alg {
  const char* name;
  Family family;
  const char* md;   // digest name; nullptr for EdDSA
  const char* crv;  // required curve for ECDSA/EdDSA
  size_t field = 0; // ECDSA: bytes of r and of s
};

constexpr Alg kAlgs[] = {
    {"RS256", Family::rsa_pkcs1, "SHA256", nullptr}, {"RS384", Family::rsa_pkcs1, "SHA384", nullptr},
    {"RS512", Family::rsa_pkcs1, "SHA512", nullptr}, {"PS256", Family::rsa_pss, "SHA256", nullptr},
    {"PS384", Family::rsa_pss, "SHA384", nullptr},   {"PS512", Family::rsa_pss, "SHA512", nullptr},
    {"ES256", Family::ecdsa, "SHA256", "P-256", 32}, {"ES384", Family::ecdsa, "SHA384", "P-384", 48},
    {"ES512", Family::ecdsa, "SHA512", "P-521", 66}, {"EdDSA", Family::eddsa, nullptr, "Ed25519"},
};

const Alg* find_alg(std::string_view name) {
  for (const Alg& a : kAlgs)
    if (name == a.name) return &a;
  return nullptr;
}

bool fits(const Jwk& key, const Alg& alg) {
  switch (alg.family) {
  case Family::rsa_pkcs1:
  case Family::rsa_pss: return key.kty == "RSA";
  case Family::ecdsa: return key.kty == "EC" && key.crv == alg.crv;
  case Family::eddsa: return key.kty == "OKP" && key.crv == alg.crv;
  }
  return false;
}

// Would this key be tried for a token with this alg and kid?
bool candidate(const Jwk& key, const Alg& alg, std::string_view kid) {
  return fits(key, alg) && (kid.empty() || key.kid == kid) && (key.alg.empty() || key.alg == alg.name);
}

// ---- key import -------------------------------------------------------------------------

EvpPkey pkey_fromdata(const char* type, const OSSL_PARAM* params) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1)
    return nullptr;
  EvpPkey key(raw);
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

std::optional<std::string> b64_member(const cJSON* jwk, const char* name) {
  auto text = json_string(jwk, name);
  if (!text) return std::nullopt;
  return b64url_strict(*text);
}

bool import_rsa(const cJSON* jwk, Jwk& out) {
  auto n = b64_member(jwk, "n"), e = b64_member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return false;
  Bn bn_n(BN_bin2bn(u8(*n), static_cast<int>(n->size()), nullptr));
  Bn bn_e(BN_bin2bn(u8(*e), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return false;
  int bits = BN_num_bits(bn_n.get());
  // Below 2048 bits is breakable; above 16384 only costs us time. e: odd, > 1, at most 64 bits.
  if (bits < 2048 || bits > 16384) return false;
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) || BN_num_bits(bn_e.get()) > 64) return false;
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return false;
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return false;
  out.key = pkey_fromdata("RSA", params.get());
  out.bits = bits;
  return out.key != nullptr;
}

struct Curve {
  const char* crv;
  const char* group; // OpenSSL group name
  size_t bytes;
  int bits;
};
constexpr Curve kCurves[] = {
    {"P-256", "prime256v1", 32, 256},
    {"P-384", "secp384r1", 48, 384},
    {"P-521", "secp521r1", 66, 521},
};

bool import_ec(const cJSON* jwk, Jwk& out) {
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves)
    if (out.crv == c.crv) curve = &c;
  if (!curve) return false;
  auto x = b64_member(jwk, "x"), y = b64_member(jwk, "y");
  // RFC 7518 6.2.1.2: x and y are the full field size, leading zeros kept.
  if (!x || !y || x->size() != curve->bytes || y->size() != curve->bytes) return false;
  std::string point = "\x04" + *x + *y; // uncompressed SEC1 point
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return false;
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return false;
  out.key = pkey_fromdata("EC", params.get()); // the public check refuses points off the curve
  out.bits = curve->bits;
  return out.key != nullptr;
}

bool import_okp(const cJSON* jwk, Jwk& out) {
  if (out.crv != "Ed25519") return false;
  auto x = b64_member(jwk, "x");
  if (!x || x->size() != 32) return false;
  out.key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, u8(*x), x->size()));
  out.bits = 256;
  return out.key != nullptr;
}

bool allows_verify(const cJSON* jwk) {
  const cJSON* ops = cJSON_GetObjectItemCaseSensitive(jwk, "key_ops");
  if (!ops) return true;
  if (!cJSON_IsArray(ops)) return false;
  const cJSON* op = nullptr;
  cJSON_ArrayForEach(op, ops) {
    if (cJSON_IsString(op) && op->valuestring && std::strcmp(op->valuestring, "verify") == 0) return true;
  }
  return false;
}

// One JWK, or nullopt when it is to be skipped.
std::optional<Jwk> import_jwk(const cJSON* jwk) {
  if (!cJSON_IsObject(jwk)) return std::nullopt;
  auto use = optional_string(jwk, "use");
  auto kty = json_string(jwk, "kty");
  auto kid = optional_string(jwk, "kid");
  auto alg = optional_string(jwk, "alg");
  auto crv = optional_string(jwk, "crv");
  if (!use || (!use->empty() && *use != "sig") || !kty || !kid || !alg || !crv || !allows_verify(jwk))
    return std::nullopt;
  Jwk out;
  out.kty = *kty;
  out.kid = *kid;
  out.alg = *alg;
  bool ok = false;
  if (*kty == "RSA") {
    ok = crv->empty() && import_rsa(jwk, out);
  } else {
    out.crv = *crv;
    if (*kty == "EC")
      ok = import_ec(jwk, out);
    else if (*kty == "OKP")
      ok = import_okp(jwk, out);
  }
  if (!ok) return std::nullopt;
  // A key bound to an alg it cannot serve (or to none/HS*) is unusable.
  if (!out.alg.empty()) {
    const Alg* a = find_alg(out.alg);
    if (!a || !fits(out, *a)) return std::nullopt;
  }
  return out;
}

// ---- signatures -------------------------------------------------------------------------

// JWS ECDSA signatures are raw r||s; OpenSSL verifies DER. Empty on failure.
std::string ecdsa_raw_to_der(std::string_view raw, size_t field) {
  if (raw.size() != 2 * field) return {};
  Bn r(BN_bin2bn(u8(raw), static_cast<int>(field), nullptr));
  Bn s(BN_bin2bn(u8(raw) + field, static_cast<int>(field), nullptr));
  EcdsaSig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  r.release(); // now owned by sig
  s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return {};
  return der;
}

bool verify_with(const Alg& alg, const Jwk& key, std::string_view input, std::string_view signature) {
  std::string der;
  if (alg.family == Family::ecdsa) {
    der = ecdsa_raw_to_der(signature, alg.field);
    if (der.empty()) return false;
    signature = der;
  } else if (alg.family == Family::rsa_pkcs1 || alg.family == Family::rsa_pss) {
    if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.key.get()))) return false;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr; // owned by ctx
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pctx, alg.md, nullptr, nullptr, key.key.get(), nullptr) != 1)
    return false;
  if (alg.family == Family::rsa_pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, alg.md, nullptr) != 1 ||
                                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
    return false;
  if (alg.family == Family::rsa_pkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), u8(signature), signature.size(), u8(input), input.size()) == 1;
}

} // namespace

// ---- JWS --------------------------------------------------------------------------------

Result<Jws> parse_jws(std::string_view compact) {
  if (compact.size() > kMaxJwsSize) return refuse("token is larger than 16 KiB");
  size_t dots = 0;
  for (char c : compact)
    if (c == '.') dots++;
  if (dots == 4) return refuse("encrypted ID tokens (JWE) are not supported");
  if (dots != 2) return refuse("token is not a compact JWS (three dot-separated parts)");
  size_t d1 = compact.find('.'), d2 = compact.find('.', d1 + 1);
  std::string_view h64 = compact.substr(0, d1), p64 = compact.substr(d1 + 1, d2 - d1 - 1),
                   s64 = compact.substr(d2 + 1);
  auto h = b64url_strict(h64);
  auto p = b64url_strict(p64);
  auto s = b64url_strict(s64);
  if (!h || !p || !s) return refuse("token part is not unpadded base64url");

  // json_parse refuses a member named twice ("alg", "sub"): parsers disagree on which counts.
  auto header = json_parse_object(*h);
  if (!header.ok()) return refuse("token header: " + header.error().reason);
  auto payload = json_parse_object(*p);
  if (!payload.ok()) return refuse("token payload: " + payload.error().reason);

  const cJSON* hd = header->get();
  auto alg = json_string(hd, "alg");
  if (!alg || alg->empty()) return refuse("token header has no string \"alg\"");
  if (cJSON_GetObjectItemCaseSensitive(hd, "crit"))
    return refuse("token header has \"crit\" extensions, none of which are supported");
  auto kid = optional_string(hd, "kid");
  auto typ = optional_string(hd, "typ");
  if (!kid) return refuse("token header \"kid\" is not a string");
  if (!typ) return refuse("token header \"typ\" is not a string");

  Jws jws;
  jws.alg = std::move(*alg);
  jws.kid = std::move(*kid);
  jws.typ = std::move(*typ);
  jws.header = std::move(header).value();
  jws.payload = std::move(payload).value();
  jws.signing_input = std::string(compact.substr(0, d2));
  jws.signature = std::move(*s);
  return jws;
}

// ---- JWK set ----------------------------------------------------------------------------

Result<JwkSet> JwkSet::parse(std::string_view json) {
  if (json.size() > kMaxJwksSize) return refuse("JWKS is larger than 256 KiB");
  ErrMark mark;
  auto doc = json_parse_object(json);
  if (!doc.ok()) return refuse("JWKS: " + doc.error().reason);
  const cJSON* keys = cJSON_GetObjectItemCaseSensitive(doc->get(), "keys");
  if (!cJSON_IsArray(keys)) return refuse("JWKS has no \"keys\" array");
  JwkSet set;
  const cJSON* jwk = nullptr;
  cJSON_ArrayForEach(jwk, keys) {
    if (auto key = import_jwk(jwk)) set.keys_.push_back(std::move(*key));
  }
  if (set.keys_.empty())
    return refuse("JWKS has no usable signing key (RSA >= 2048 bits, EC P-256/384/521, Ed25519)");
  return set;
}

bool JwkSet::has_key_for(const Jws& jws) const {
  const Alg* alg = find_alg(jws.alg);
  if (!alg) return false;
  for (const Jwk& key : keys_)
    if (candidate(key, *alg, jws.kid)) return true;
  return false;
}

Result<void> verify_jws(const Jws& jws, const JwkSet& keys, const std::vector<std::string>& allowed) {
  // Never "none", never HMAC: a public key must not become an HMAC secret. Checked before
  // `allowed` so no configuration can turn them on.
  if (jws.alg == "none" || jws.alg.rfind("HS", 0) == 0)
    return refuse("token alg " + label(jws.alg) + " is never accepted");
  const Alg* alg = find_alg(jws.alg);
  if (!alg) return refuse("token alg " + label(jws.alg) + " is not supported");
  bool is_allowed = false;
  for (const std::string& a : allowed)
    if (a == alg->name) is_allowed = true;
  if (!is_allowed) return refuse(std::string("token alg ") + alg->name + " is not allowed for this provider");
  if (alg->family == Family::ecdsa && jws.signature.size() != 2 * alg->field)
    return refuse(std::string(alg->name) + " signature is not " + std::to_string(2 * alg->field) +
                  " bytes of r||s");

  ErrMark mark;
  bool any = false;
  for (const Jwk& key : keys.keys()) {
    if (!candidate(key, *alg, jws.kid)) continue;
    any = true;
    if (verify_with(*alg, key, jws.signing_input, jws.signature)) return {};
  }
  if (!any) {
    if (!jws.kid.empty())
      return refuse(std::string("no ") + alg->name + " key in the JWKS for the token's kid");
    return refuse(std::string("no key in the JWKS fits alg ") + alg->name);
  }
  return refuse(std::string("bad signature: the token does not verify with the JWKS (") + alg->name + ")");
}

} // namespace oauthfcgi
