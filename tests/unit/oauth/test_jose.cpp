#include "jose.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "crypto.hpp"

using namespace oauthfcgi;

namespace {

// ---- keys and signatures made at test time, with EVP ------------------------------------

template <class T, void (*F)(T*)> struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Pkey make_rsa(unsigned bits) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) ADD_FAILURE() << "RSA keygen failed";
  return key;
}
Pkey make_ec(const char* curve) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) ADD_FAILURE() << "EC keygen failed";
  return key;
}

// Keys are slow to make: one of each, shared by the tests.
EVP_PKEY* rsa_a() {
  static Pkey k = make_rsa(2048);
  return k.get();
}
EVP_PKEY* rsa_b() {
  static Pkey k = make_rsa(2048);
  return k.get();
}
EVP_PKEY* ec256_a() {
  static Pkey k = make_ec("P-256");
  return k.get();
}
EVP_PKEY* ec256_b() {
  static Pkey k = make_ec("P-256");
  return k.get();
}
EVP_PKEY* ec384() {
  static Pkey k = make_ec("P-384");
  return k.get();
}
EVP_PKEY* ec521() {
  static Pkey k = make_ec("P-521");
  return k.get();
}
EVP_PKEY* ed25519() {
  static Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return k.get();
}

std::string b64(std::string_view bytes) {
  return base64url_encode(bytes);
}

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
  Bn bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// `extra` is appended inside the object, e.g. R"(,"use":"enc")".
std::string rsa_jwk(EVP_PKEY* key, const std::string& kid, const std::string& extra = "") {
  std::string kid_member = kid.empty() ? "" : R"("kid":")" + kid + R"(",)";
  return R"({"kty":"RSA",)" + kid_member + R"("n":")" + b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) +
         R"(","e":")" + b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"" + extra + "}";
}

std::string ec_jwk(EVP_PKEY* key, const std::string& crv, const std::string& kid,
                   const std::string& extra = "") {
  unsigned char point[200];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len) != 1 ||
      point[0] != 0x04)
    ADD_FAILURE() << "no uncompressed EC point";
  size_t field = (len - 1) / 2;
  std::string x(reinterpret_cast<char*>(point) + 1, field),
      y(reinterpret_cast<char*>(point) + 1 + field, field);
  std::string kid_member = kid.empty() ? "" : R"("kid":")" + kid + R"(",)";
  return R"({"kty":"EC","crv":")" + crv + "\"," + kid_member + R"("x":")" + b64(x) + R"(","y":")" + b64(y) +
         "\"" + extra + "}";
}

std::string ed_jwk(EVP_PKEY* key, const std::string& kid) {
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1) ADD_FAILURE() << "no Ed25519 public key";
  return R"({"kty":"OKP","crv":"Ed25519","kid":")" + kid + R"(","x":")" +
         b64(std::string_view(reinterpret_cast<char*>(pub), len)) + "\"}";
}

std::string jwks(std::initializer_list<std::string> keys) {
  std::string out = R"({"keys":[)";
  for (const std::string& k : keys)
    out += (out.back() == '[' ? "" : ",") + k;
  return out + "]}";
}

enum class Pad { none, pkcs1, pss };

std::string evp_sign(EVP_PKEY* key, const char* md, std::string_view input, Pad pad) {
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, key, nullptr) != 1) return {};
  if (pad == Pad::pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
    return {};
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, u8(input), input.size()) != 1) return {};
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, u8(input),
                     input.size()) != 1)
    return {};
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value -> the raw r||s JWS wants.
std::string der_to_raw(std::string_view der, size_t field) {
  const unsigned char* p = u8(der);
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * field, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(r, o, static_cast<int>(field));
  BN_bn2binpad(s, o + field, static_cast<int>(field));
  return out;
}

using Signer = std::function<std::string(std::string_view input)>;

Signer rsa_signer(EVP_PKEY* key, const char* md, Pad pad = Pad::pkcs1) {
  return [=](std::string_view in) { return evp_sign(key, md, in, pad); };
}
Signer ec_signer(EVP_PKEY* key, const char* md, size_t field) {
  return [=](std::string_view in) { return der_to_raw(evp_sign(key, md, in, Pad::none), field); };
}
Signer ec_der_signer(EVP_PKEY* key, const char* md) {
  return [=](std::string_view in) { return evp_sign(key, md, in, Pad::none); };
}
Signer ed_signer(EVP_PKEY* key) {
  return [=](std::string_view in) { return evp_sign(key, nullptr, in, Pad::none); };
}

const std::string kPayload =
    R"({"iss":"https://op.example","sub":"248289761001","aud":"client","exp":1999999999})";

std::string header(const std::string& alg, const std::string& kid = "") {
  if (kid.empty()) return R"({"alg":")" + alg + R"(","typ":"JWT"})";
  return R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"JWT"})";
}

std::string make_jwt(const std::string& hdr, const std::string& payload, const Signer& sign) {
  std::string input = b64(hdr) + "." + b64(payload);
  return input + "." + b64(sign(input));
}

const std::vector<std::string> kAllowed = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                           "PS512", "ES256", "ES384", "ES512", "EdDSA"};

JwkSet keyset(const std::string& json) {
  auto set = JwkSet::parse(json);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().reason);
  return std::move(set).value();
}

// Parses and verifies; the error reason, or "" when the token verified.
std::string check(const std::string& token, const JwkSet& keys,
                  const std::vector<std::string>& allowed = kAllowed) {
  auto jws = parse_jws(token);
  if (!jws.ok()) return "parse: " + jws.error().reason;
  auto r = verify_jws(*jws, keys, allowed);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  return r.error().reason;
}

std::string parse_reason(std::string_view token) {
  auto jws = parse_jws(token);
  if (jws.ok()) return "";
  EXPECT_EQ(jws.error().kind, ErrorKind::provider_error);
  return jws.error().reason;
}

// Replaces the payload part of a compact JWS, keeping header and signature.
std::string with_payload(const std::string& token, const std::string& payload) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  return token.substr(0, d1 + 1) + b64(payload) + token.substr(d2);
}
std::string signature_part(const std::string& token) {
  return base64url_decode(token.substr(token.rfind('.') + 1)).value();
}
std::string with_signature(const std::string& token, std::string_view sig) {
  return token.substr(0, token.rfind('.') + 1) + b64(sig);
}

} // namespace

// ---- parse_jws ------------------------------------------------------------------------------

TEST(Jose, ParseJwsReadsHeaderPayloadAndSigningInput) {
  std::string token = make_jwt(header("RS256", "k1"), kPayload, [](std::string_view) { return "sig"; });
  auto jws = parse_jws(token);
  ASSERT_TRUE(jws.ok()) << jws.error().reason;
  EXPECT_EQ(jws->alg, "RS256");
  EXPECT_EQ(jws->kid, "k1");
  EXPECT_EQ(jws->typ, "JWT");
  EXPECT_EQ(jws->signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(jws->signature, "sig");
  EXPECT_EQ(json_string(jws->payload.get(), "sub"), "248289761001");
  EXPECT_EQ(json_string(jws->header.get(), "alg"), "RS256");
}

TEST(Jose, ParseJwsLeavesAbsentKidAndTypEmpty) {
  auto jws = parse_jws(make_jwt(R"({"alg":"ES256"})", kPayload, [](std::string_view) { return "s"; }));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->kid, "");
  EXPECT_EQ(jws->typ, "");
}

TEST(Jose, JweWithFivePartsIsRefusedAsEncrypted) {
  std::string jwe = b64(R"({"alg":"RSA-OAEP","enc":"A256GCM"})") + ".a2V5.aXY.Y2lwaGVy.dGFn";
  std::string reason = parse_reason(jwe);
  EXPECT_NE(reason.find("encrypted"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not supported"), std::string::npos) << reason;
}

TEST(Jose, WrongNumberOfPartsIsRefused) {
  std::string h = b64(header("RS256")), p = b64(kPayload);
  for (const std::string& t :
       {std::string(), h, h + "." + p, h + "." + p + ".c2ln.eA", std::string(".."), std::string("....")})
    EXPECT_NE(parse_reason(t), "") << t;
}

TEST(Jose, PaddingAndNonBase64urlCharactersAreRefused) {
  std::string token = make_jwt(header("RS256"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  ASSERT_EQ(parse_reason(token), "");
  size_t d1 = token.find('.');
  std::string sig64 = token.substr(token.rfind('.') + 1);
  std::string head = token.substr(0, token.rfind('.') + 1);
  std::vector<std::string> bad = {
      head + sig64 + "=",                                       // padding on the signature
      head + sig64 + "==",                                      //
      b64(R"({"alg":"RS256"} )") + "=." + token.substr(d1 + 1), // padding on the header
      head + sig64.substr(0, 10) + "+" + sig64.substr(11),      // standard-base64 '+'
      head + sig64.substr(0, 10) + "/" + sig64.substr(11),      // standard-base64 '/'
      head + sig64.substr(0, 10) + " " + sig64.substr(11),      // whitespace
      head + sig64.substr(0, 10) + "*" + sig64.substr(11),      // not base64 at all
      "eyJhbGciOiJSUzI1NiJ9A" + token.substr(d1),               // impossible length (4n+1)
      token.substr(0, d1) + "\n." + token.substr(d1 + 1),       // newline in the header part
  };
  for (const std::string& t : bad)
    EXPECT_NE(parse_reason(t), "") << "accepted: " << t;
  // Non-canonical: "eA" and "eB" both decode to "x"; only "eA" is the encoding of "x".
  EXPECT_EQ(parse_reason(head + "eA"), "");
  EXPECT_NE(parse_reason(head + "eB"), "");
}

TEST(Jose, HeaderAndPayloadMustBeJsonObjects) {
  auto sign = [](std::string_view) { return "s"; };
  EXPECT_NE(parse_reason(make_jwt("[1]", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt("not json", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt(header("RS256"), "\"a string\"", sign)), "");
  EXPECT_NE(parse_reason(make_jwt(header("RS256"), "{\"sub\":\"1\"} trailing", sign)), "");
  EXPECT_NE(parse_reason(make_jwt(header("RS256"), "", sign)), "");
}

TEST(Jose, HeaderWithoutStringAlgIsRefused) {
  auto sign = [](std::string_view) { return "s"; };
  EXPECT_NE(parse_reason(make_jwt(R"({"typ":"JWT"})", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt(R"({"alg":256})", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt(R"({"alg":""})", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt(R"({"alg":"RS256","kid":7})", kPayload, sign)), "");
}

TEST(Jose, CritHeaderIsRefused) {
  std::string t =
      make_jwt(R"({"alg":"RS256","crit":["exp"],"exp":1})", kPayload, rsa_signer(rsa_a(), "SHA256"));
  EXPECT_NE(parse_reason(t).find("crit"), std::string::npos);
  EXPECT_NE(parse_reason(make_jwt(R"({"alg":"RS256","crit":[]})", kPayload, rsa_signer(rsa_a(), "SHA256"))),
            "");
}

TEST(Jose, DuplicateMembersAreRefused) {
  auto sign = [](std::string_view) { return "s"; };
  // Parsers disagree on which "alg" wins; refuse rather than pick one.
  EXPECT_NE(parse_reason(make_jwt(R"({"alg":"RS256","alg":"none"})", kPayload, sign)), "");
  EXPECT_NE(parse_reason(make_jwt(header("RS256"), R"({"sub":"a","sub":"b"})", sign)), "");
}

// A key with two "kid" (or two "n") is read one way here and another way elsewhere.
TEST(Jose, AKeySetNamingAMemberTwiceIsRefused) {
  std::string good = jwks({rsa_jwk(rsa_a(), "r1")});
  ASSERT_TRUE(JwkSet::parse(good).ok());
  auto twice = JwkSet::parse(jwks({rsa_jwk(rsa_a(), "r1", R"(,"kid":"r2")")}));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().reason.find("\"kid\" twice"), std::string::npos) << twice.error().reason;
}

TEST(Jose, TokenOver16KiBIsRefused) {
  std::string big = R"({"sub":"1","pad":")" + std::string(16 * 1024, 'x') + "\"}";
  EXPECT_NE(parse_reason(make_jwt(header("RS256"), big, rsa_signer(rsa_a(), "SHA256"))).find("16 KiB"),
            std::string::npos);
}

TEST(Jose, ReasonsNeverQuoteTheToken) {
  std::string good = make_jwt(header("RS256", "kid-secretish"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_b(), "kid-secretish")}));
  std::string payload64 = b64(kPayload), sig64 = good.substr(good.rfind('.') + 1);
  std::vector<std::string> reasons = {
      check(good, keys), // bad signature
      check(make_jwt(header("RS256", "other"), kPayload, rsa_signer(rsa_a(), "SHA256")), keys), // no key
      parse_reason(good + "="),
      parse_reason(good + ".x.y"),
      check(make_jwt(header("HS256"), kPayload, [](std::string_view in) { return hmac_sha256("k", in); }),
            keys),
      check(make_jwt(header(R"(XX999\"<script>)"), kPayload, rsa_signer(rsa_a(), "SHA256")), keys),
  };
  for (const std::string& r : reasons) {
    EXPECT_NE(r, "");
    EXPECT_EQ(r.find(payload64.substr(0, 20)), std::string::npos) << r;
    EXPECT_EQ(r.find(sig64.substr(0, 20)), std::string::npos) << r;
    EXPECT_EQ(r.find("secretish"), std::string::npos) << r;
    EXPECT_EQ(r.find("<script>"), std::string::npos) << r;
  }
}

// ---- verify_jws: the good cases -------------------------------------------------------------

TEST(Jose, RsPkcs1TokensVerify) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  for (auto [alg, md] : {std::pair{"RS256", "SHA256"}, {"RS384", "SHA384"}, {"RS512", "SHA512"}})
    EXPECT_EQ(check(make_jwt(header(alg, "r1"), kPayload, rsa_signer(rsa_a(), md)), keys), "") << alg;
}

TEST(Jose, PsPssTokensVerify) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  for (auto [alg, md] : {std::pair{"PS256", "SHA256"}, {"PS384", "SHA384"}, {"PS512", "SHA512"}})
    EXPECT_EQ(check(make_jwt(header(alg, "r1"), kPayload, rsa_signer(rsa_a(), md, Pad::pss)), keys), "")
        << alg;
}

TEST(Jose, PssSignatureWithOtherSaltLengthIsRefused) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  Signer salt_max = [](std::string_view in) {
    MdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, rsa_a(), nullptr);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 64);
    std::string sig(256, '\0');
    size_t len = sig.size();
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, u8(in), in.size());
    sig.resize(len);
    return sig;
  };
  EXPECT_NE(check(make_jwt(header("PS256", "r1"), kPayload, salt_max), keys), "");
}

TEST(Jose, Pkcs1SignatureIsRefusedAsPss) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  EXPECT_NE(check(make_jwt(header("PS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256")), keys), "");
  EXPECT_NE(check(make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256", Pad::pss)), keys),
            "");
}

TEST(Jose, EsTokensVerifyOnTheirCurves) {
  JwkSet keys = keyset(jwks({ec_jwk(ec256_a(), "P-256", "e256"), ec_jwk(ec384(), "P-384", "e384"),
                             ec_jwk(ec521(), "P-521", "e521")}));
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(check(make_jwt(header("ES256", "e256"), kPayload, ec_signer(ec256_a(), "SHA256", 32)), keys), "");
  EXPECT_EQ(check(make_jwt(header("ES384", "e384"), kPayload, ec_signer(ec384(), "SHA384", 48)), keys), "");
  EXPECT_EQ(check(make_jwt(header("ES512", "e521"), kPayload, ec_signer(ec521(), "SHA512", 66)), keys), "");
}

TEST(Jose, EdDsaEd25519TokenVerifies) {
  JwkSet keys = keyset(jwks({ed_jwk(ed25519(), "ed")}));
  std::string token = make_jwt(header("EdDSA", "ed"), kPayload, ed_signer(ed25519()));
  EXPECT_EQ(check(token, keys), "");
  EXPECT_NE(check(with_payload(token, R"({"sub":"admin"})"), keys), "");
}

TEST(Jose, NoKidTokenIsVerifiedByTryingEveryFittingKey) {
  JwkSet keys = keyset(jwks(
      {rsa_jwk(rsa_b(), "b"), ec_jwk(ec256_a(), "P-256", "e"), rsa_jwk(rsa_a(), "a"), rsa_jwk(rsa_b(), "")}));
  std::string token = make_jwt(header("RS256"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  auto jws = parse_jws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(keys.has_key_for(*jws));
  EXPECT_EQ(check(token, keys), "");
  EXPECT_EQ(check(make_jwt(header("ES256"), kPayload, ec_signer(ec256_a(), "SHA256", 32)), keys), "");
}

TEST(Jose, KeyWithoutKidVerifiesTokenWithoutKid) {
  JwkSet keys = keyset(jwks({ec_jwk(ec256_a(), "P-256", "")}));
  EXPECT_EQ(check(make_jwt(header("ES256"), kPayload, ec_signer(ec256_a(), "SHA256", 32)), keys), "");
}

// ---- verify_jws: tampering and wrong keys ---------------------------------------------------

TEST(Jose, ChangedPayloadFailsTheSignature) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1"), ec_jwk(ec256_a(), "P-256", "e1")}));
  std::string evil = R"({"iss":"https://op.example","sub":"248289761002","aud":"client","exp":1999999999})";
  std::string rs = make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  std::string es = make_jwt(header("ES256", "e1"), kPayload, ec_signer(ec256_a(), "SHA256", 32));
  ASSERT_EQ(check(rs, keys), "");
  ASSERT_EQ(check(es, keys), "");
  EXPECT_NE(check(with_payload(rs, evil), keys).find("bad signature"), std::string::npos);
  EXPECT_NE(check(with_payload(es, evil), keys).find("bad signature"), std::string::npos);
}

TEST(Jose, FlippedSignatureByteFails) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1"), ec_jwk(ec256_a(), "P-256", "e1")}));
  std::string rs = make_jwt(header("PS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256", Pad::pss));
  std::string es = make_jwt(header("ES256", "e1"), kPayload, ec_signer(ec256_a(), "SHA256", 32));
  for (const std::string& token : {rs, es}) {
    std::string sig = signature_part(token);
    for (size_t i : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
      std::string bad = sig;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      EXPECT_NE(check(with_signature(token, bad), keys), "") << i;
    }
  }
}

TEST(Jose, TruncatedOrEmptyRsaSignatureFails) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  std::string token = make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  std::string sig = signature_part(token);
  EXPECT_NE(check(with_signature(token, sig.substr(1)), keys), "");
  EXPECT_NE(check(with_signature(token, sig + "x"), keys), "");
  EXPECT_NE(check(with_signature(token, ""), keys), "");
}

TEST(Jose, RsaSignatureOfAnotherKeyIsRefused) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  EXPECT_NE(check(make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_b(), "SHA256")), keys), "");
}

TEST(Jose, Es256SignatureOfAnotherKeyIsRefused) {
  JwkSet keys = keyset(jwks({ec_jwk(ec256_a(), "P-256", "e1")}));
  std::string reason =
      check(make_jwt(header("ES256", "e1"), kPayload, ec_signer(ec256_b(), "SHA256", 32)), keys);
  EXPECT_NE(reason.find("bad signature"), std::string::npos) << reason;
}

TEST(Jose, WrongKidFailsAndHasKeyForIsFalse) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "current")}));
  std::string token = make_jwt(header("RS256", "rotated"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  auto jws = parse_jws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(keys.has_key_for(*jws));
  std::string reason = check(token, keys);
  EXPECT_NE(reason.find("kid"), std::string::npos) << reason;
}

TEST(Jose, HasKeyForNeedsKidTypeAndKeyAlgToMatch) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r", R"(,"alg":"RS256")"), ec_jwk(ec384(), "P-384", "e")}));
  auto has = [&](const std::string& hdr) {
    auto jws = parse_jws(make_jwt(hdr, kPayload, [](std::string_view) { return "s"; }));
    return jws.ok() && keys.has_key_for(*jws);
  };
  EXPECT_TRUE(has(header("RS256", "r")));
  EXPECT_TRUE(has(header("RS256")));
  EXPECT_FALSE(has(header("PS256", "r"))); // the key says RS256 only
  EXPECT_TRUE(has(header("ES384", "e")));
  EXPECT_FALSE(has(header("ES256", "e"))); // P-384 key, P-256 alg
  EXPECT_FALSE(has(header("ES256", "r")));
  EXPECT_FALSE(has(header("none")));
  EXPECT_FALSE(has(header("HS256", "r")));
}

TEST(Jose, KeyBoundToAnotherAlgIsNotUsed) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1", R"(,"alg":"RS256")")}));
  EXPECT_EQ(check(make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256")), keys), "");
  EXPECT_NE(check(make_jwt(header("PS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256", Pad::pss)), keys),
            "");
}

TEST(Jose, Es256TokenAgainstRsaKeyIsRefused) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "k")}));
  std::string token = make_jwt(header("ES256", "k"), kPayload, ec_signer(ec256_a(), "SHA256", 32));
  auto jws = parse_jws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(keys.has_key_for(*jws));
  EXPECT_NE(check(token, keys), "");
  // And the reverse: an RS256 token naming an EC key.
  JwkSet ec = keyset(jwks({ec_jwk(ec256_a(), "P-256", "k")}));
  EXPECT_NE(check(make_jwt(header("RS256", "k"), kPayload, rsa_signer(rsa_a(), "SHA256")), ec), "");
}

TEST(Jose, EsAlgMustMatchTheKeyCurve) {
  JwkSet keys = keyset(jwks({ec_jwk(ec384(), "P-384", "k")}));
  // A P-384 key with a SHA-256 signature under the ES256 label: the curve does not fit ES256.
  EXPECT_NE(check(make_jwt(header("ES256", "k"), kPayload, ec_signer(ec384(), "SHA256", 48)), keys), "");
  EXPECT_NE(check(make_jwt(header("ES256", "k"), kPayload, ec_signer(ec384(), "SHA256", 32)), keys), "");
}

TEST(Jose, Es256DerEncodedSignatureIsRefused) {
  JwkSet keys = keyset(jwks({ec_jwk(ec256_a(), "P-256", "e1")}));
  std::string reason =
      check(make_jwt(header("ES256", "e1"), kPayload, ec_der_signer(ec256_a(), "SHA256")), keys);
  EXPECT_NE(reason.find("64 bytes"), std::string::npos) << reason;
}

TEST(Jose, AlgNotInAllowedIsRefused) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  std::string token = make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_a(), "SHA256"));
  EXPECT_NE(check(token, keys, {"ES256", "PS256"}).find("not allowed"), std::string::npos);
  EXPECT_NE(check(token, keys, {}), "");
  EXPECT_NE(check(token, keys, {"rs256"}), "");
}

TEST(Jose, UnknownAlgIsRefusedEvenWhenAllowed) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  std::string token = make_jwt(header("RS1", "r1"), kPayload, rsa_signer(rsa_a(), "SHA1"));
  EXPECT_NE(check(token, keys, {"RS1"}).find("not supported"), std::string::npos);
}

// ---- verify_jws: the classic attacks --------------------------------------------------------

TEST(Jose, AlgNoneIsRefusedEvenWhenAllowed) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  auto empty = [](std::string_view) { return std::string(); };
  std::vector<std::string> allowed = kAllowed;
  allowed.push_back("none");
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    std::string token = make_jwt(header(alg, "r1"), kPayload, empty);
    ASSERT_EQ(parse_reason(token), "") << "none must reach verify_jws to be refused there";
    allowed.push_back(alg);
    EXPECT_NE(check(token, keys, allowed), "") << alg;
    EXPECT_NE(check(make_jwt(header(alg), kPayload, empty), keys, allowed), "") << alg;
  }
}

TEST(Jose, Hs256KeyedWithTheRsaPublicKeyIsRefused) {
  std::string jwk = rsa_jwk(rsa_a(), "r1");
  JwkSet keys = keyset(jwks({jwk}));

  std::string der(static_cast<size_t>(i2d_PUBKEY(rsa_a(), nullptr)), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  ASSERT_EQ(i2d_PUBKEY(rsa_a(), &p), static_cast<int>(der.size()));
  Bio bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), rsa_a()), 1);
  char* pem_data = nullptr;
  long pem_len = BIO_get_mem_data(bio.get(), &pem_data);
  std::string pem(pem_data, static_cast<size_t>(pem_len));
  std::string n = bn_param(rsa_a(), OSSL_PKEY_PARAM_RSA_N);

  std::vector<std::string> allowed = kAllowed;
  allowed.insert(allowed.end(), {"HS256", "HS384", "HS512"});
  for (const std::string& secret : {der, pem, jwk, jwks({jwk}), n, b64(n)}) {
    std::string token = make_jwt(header("HS256", "r1"), kPayload,
                                 [&](std::string_view in) { return hmac_sha256(secret, in); });
    std::string reason = check(token, keys, allowed);
    EXPECT_NE(reason.find("never accepted"), std::string::npos) << reason;
    EXPECT_NE(check(make_jwt(header("HS256"), kPayload,
                             [&](std::string_view in) { return hmac_sha256(secret, in); }),
                    keys, allowed),
              "");
  }
  for (const char* alg : {"HS384", "HS512"})
    EXPECT_NE(
        check(make_jwt(header(alg, "r1"), kPayload, [](std::string_view) { return std::string(48, 'x'); }),
              keys, allowed),
        "");
}

TEST(Jose, TokenEmbeddedKeyIsIgnored) {
  // A "jwk" header naming the attacker's key must not be trusted: only the JwkSet counts.
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1")}));
  std::string hdr = R"({"alg":"RS256","kid":"r1","jwk":)" + rsa_jwk(rsa_b(), "r1") + "}";
  EXPECT_NE(check(make_jwt(hdr, kPayload, rsa_signer(rsa_b(), "SHA256")), keys), "");
}

// ---- JwkSet::parse --------------------------------------------------------------------------

TEST(Jose, RsaKeyUnder2048BitsIsSkipped) {
  Pkey small = make_rsa(1024);
  EXPECT_FALSE(JwkSet::parse(jwks({rsa_jwk(small.get(), "small")})).ok());
  JwkSet keys = keyset(jwks({rsa_jwk(small.get(), "small"), rsa_jwk(rsa_a(), "big")}));
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.keys()[0].kid, "big");
  EXPECT_EQ(keys.keys()[0].bits, 2048);
  std::string token = make_jwt(header("RS256", "small"), kPayload, rsa_signer(small.get(), "SHA256"));
  EXPECT_NE(check(token, keys), "");
}

TEST(Jose, KeyWithUseEncIsSkipped) {
  EXPECT_FALSE(JwkSet::parse(jwks({rsa_jwk(rsa_a(), "enc", R"(,"use":"enc")")})).ok());
  JwkSet keys =
      keyset(jwks({rsa_jwk(rsa_a(), "enc", R"(,"use":"enc")"), rsa_jwk(rsa_b(), "sig", R"(,"use":"sig")")}));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.keys()[0].kid, "sig");
  EXPECT_NE(check(make_jwt(header("RS256", "enc"), kPayload, rsa_signer(rsa_a(), "SHA256")), keys), "");
}

TEST(Jose, KeyWhoseKeyOpsLackVerifyIsSkipped) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "wrap", R"(,"key_ops":["wrapKey"])"),
                             rsa_jwk(rsa_b(), "ver", R"(,"key_ops":["verify"])")}));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.keys()[0].kid, "ver");
}

TEST(Jose, UnknownOrSymmetricKeysAreSkippedButOthersKept) {
  JwkSet keys = keyset(jwks({
      R"({"kty":"oct","kid":"h","k":"c2VjcmV0"})",
      R"({"kty":"EC","crv":"secp256k1","kid":"k1","x":"AA","y":"AA"})",
      R"({"kty":"OKP","crv":"X25519","kid":"x","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})",
      R"({"kty":"RSA","kid":"no-n","e":"AQAB"})",
      R"({"kty":"RSA","kid":"pad","n":"AQAB=","e":"AQAB"})",
      R"({"kid":"no-kty"})",
      R"("not an object")",
      "42",
      rsa_jwk(rsa_a(), "", R"(,"kid":7)"),
      rsa_jwk(rsa_a(), "bad-alg", R"(,"alg":"ES256")"),
      rsa_jwk(rsa_a(), "hs-alg", R"(,"alg":"HS256")"),
      ec_jwk(ec256_a(), "P-384", "wrong-crv"),
      rsa_jwk(rsa_a(), "good"),
  }));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.keys()[0].kid, "good");
}

TEST(Jose, EcPointOffTheCurveIsSkipped) {
  std::string good = ec_jwk(ec256_a(), "P-256", "e");
  size_t y = good.find("\"y\":\"") + 5;
  std::string bad = good;
  bad[y + 10] = bad[y + 10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(JwkSet::parse(jwks({bad})).ok());
  EXPECT_EQ(keyset(jwks({bad, good})).size(), 1u);
}

TEST(Jose, EcCoordinatesMustBeFullLength) {
  // A 31-byte x (leading zero dropped) is malformed per RFC 7518 6.2.1.2.
  EXPECT_FALSE(JwkSet::parse(jwks({R"({"kty":"EC","crv":"P-256","x":")" + b64(std::string(31, '\x01')) +
                                   R"(","y":")" + b64(std::string(32, '\x01')) + "\"}"}))
                   .ok());
}

TEST(Jose, GarbageJwksFails) {
  for (const char* text :
       {"", "garbage", "{", "[]", "null", R"({"keys":{}})", R"({"keys":"x"})", R"({"keys":[]})",
        R"({"keys":[1,"x",null,{}]})", R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})", R"({"key":[]})"}) {
    auto set = JwkSet::parse(text);
    EXPECT_FALSE(set.ok()) << text;
    if (!set.ok()) {
      EXPECT_EQ(set.error().kind, ErrorKind::provider_error);
    }
  }
}

TEST(Jose, JwksKeepsKidAlgAndCurve) {
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r", R"(,"alg":"PS256","use":"sig")"),
                             ec_jwk(ec521(), "P-521", "e"), ed_jwk(ed25519(), "d")}));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys.keys()[0].kty, "RSA");
  EXPECT_EQ(keys.keys()[0].alg, "PS256");
  EXPECT_EQ(keys.keys()[1].crv, "P-521");
  EXPECT_EQ(keys.keys()[1].bits, 521);
  EXPECT_EQ(keys.keys()[2].kid, "d");
  EXPECT_EQ(keys.keys()[2].alg, "");
}

// ---- against signatures this code did not make ---------------------------------------------

TEST(Jose, Rfc7515AppendixA3Es256Verifies) {
  JwkSet keys = keyset(R"({"keys":[{"kty":"EC","crv":"P-256",
      "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})");
  std::string token =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  EXPECT_EQ(check(token, keys, {"ES256"}), "");
}

// Signed outside this code: `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`, then
// printf '%s.%s' "$H" "$P" | openssl dgst -sha256 -sign k.pem | base64url, n from `openssl rsa -modulus`.
TEST(Jose, OpensslCommandLineRs256TokenVerifies) {
  JwkSet keys = keyset(R"({"keys":[{"kty":"RSA","kid":"cli","use":"sig","alg":"RS256","e":"AQAB","n":")"
                       "xP0mhe7WzYHzaqJQiOpTYK6pDMNCsyQ_FqrbnMGT1j1qH1yqV30CZzhz9VptDs8kDFp0c2PqW_"
                       "jZs2vzyfQ0uIOGcW3_38KBSBK5mtwB0"
                       "hd-wzk4UQwUzJhl-zqKNguFxvJuzNz5FPdSDWelSUyJdqwLCahbehLNehCNP-"
                       "vNrF3PgS4Ph4EiWOEYOu0DV02VsLlpfgKuKqzltmvsfwU"
                       "_Zhytaf1xPrIaS0Y2byudZmXC_pkD4Uaq4TOfli7Ov66E4x5inSgTBbZ0TMNOjDAJ8N7_KoBYsl-"
                       "7bWrHYzsaHXF2MIBk1YPmAx-UBwNT"
                       "uPdiYkEygKbBJZojpGR1Y4g0Cw\"}]}");
  std::string token =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNsaSJ9.eyJpc3MiOiJodHRwczovL2NsaS5leGFtcGxlIiwic3ViIjoiMSJ9."
      "MSHugE4KQeafZGxYx_bbGzGX5G3ncApnzX92xLooyxvcLNAOD7LKmI_"
      "2TUvf5VjgxxkY1XlxqAliqYP4w30DNDtNI5eUQepHJXPHaPobQp"
      "DL3s3iwXF3UT94ZHwOkby2e3TOcbsG0PM2DKp1wpQaXTN1o0-"
      "Ca7Ti8CAns72M0FGZTPd03CBp8MCET6dcFX2snUt0U4CsAdqAubxwRF6o"
      "Sxv34EIQ9O7rgcT_GUUZzGnrGlMn55MfzFYNCj9FSES0wvRC7Oy1HKwGuMLeHQsourRRudR8Uf-"
      "K2wS4D25EYdxRTjUQG3nK2JXxQ4y3sO"
      "OA2YxoRx26MvgCzTpLfuANXQ";
  EXPECT_EQ(check(token, keys, {"RS256"}), "");
  EXPECT_NE(check(with_payload(token, R"({"iss":"https://cli.example","sub":"2"})"), keys, {"RS256"}), "");
}

TEST(Jose, FailuresLeaveNoOpensslErrorsQueued) {
  ERR_clear_error();
  JwkSet keys = keyset(jwks({rsa_jwk(rsa_a(), "r1"), ec_jwk(ec256_a(), "P-256", "e1")}));
  (void)check(make_jwt(header("ES256", "e1"), kPayload, ec_signer(ec256_b(), "SHA256", 32)), keys);
  (void)check(make_jwt(header("RS256", "r1"), kPayload, rsa_signer(rsa_b(), "SHA256")), keys);
  (void)JwkSet::parse(jwks({R"({"kty":"EC","crv":"P-256","x":")" + b64(std::string(32, '\x01')) +
                            R"(","y":")" + b64(std::string(32, '\x02')) + "\"}"}));
  EXPECT_EQ(ERR_peek_error(), 0ul);
}
