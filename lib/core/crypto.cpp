// Random bytes, HMAC, HKDF, AES-256-GCM sealing and base64url on OpenSSL 3 (crypto.hpp).
#include "crypto.hpp"
#include "openssl_handles.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace oauthfcgi {
namespace {

using namespace openssl;

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// A failure of these primitives means a broken OpenSSL install: continuing would
// risk weak state or keys, so stop loudly.
[[noreturn]] void crypto_abort(const char* what) {
  std::fprintf(stderr, "oauth-fcgi: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

constexpr size_t kGcmNonce = 12;
constexpr size_t kGcmTag = 16;

Result<std::string> decode_b64(std::string_view text, bool url) {
  std::string s(text);
  if (url) {
    for (char& c : s) {
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (c == '+' || c == '/')
        return make_error(ErrorKind::bad_request, "not base64url");
    }
    while (s.size() % 4 != 0)
      s.push_back('=');
  }
  if (s.size() % 4 != 0) return make_error(ErrorKind::bad_request, "base64 length is not a multiple of 4");
  size_t pad = 0;
  if (!s.empty() && s.back() == '=') pad++;
  if (s.size() > 1 && s[s.size() - 2] == '=') pad++;
  for (size_t i = 0; i < s.size() - pad; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '+' || c == '/')) return make_error(ErrorKind::bad_request, "not base64");
  }
  std::string out(s.size() / 4 * 3, '\0');
  if (s.empty()) return out;
  int n = EVP_DecodeBlock(u8(out), u8(s), static_cast<int>(s.size()));
  if (n < 0) return make_error(ErrorKind::bad_request, "not base64");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// Small draws (tokens, nonces) come from a per-thread pool that one RAND_bytes call
// fills kPoolBytes at a time: a /connect makes four or five draws, and every RAND_bytes
// call pays OpenSSL's locking and fork check (a getpid() system call) whatever its size.
// - Each byte is handed out once: the pool moves past it and wipes it, so the pool never
//   holds a value already given out.
// - After fork() the child throws away what its copy of the pool still holds; otherwise
//   parent and child would hand out the same bytes (the same states, cookies, nonces)
//   until their pools ran dry, which is why comparing getpid() only at refill would not
//   do, and comparing it on every draw is the system call we avoid. A pthread_atfork
//   child handler bumps a generation that each draw compares (one atomic load); the
//   child's only thread is the one that forked, and threads started later begin empty.
//   A child made without the atfork handlers (raw clone(), _Fork()) is not covered;
//   nothing here makes one. If the handler cannot be registered, no pool is used.
constexpr size_t kPoolBytes = 512;
constexpr size_t kPoolMaxDraw = 64; // larger draws go straight to RAND_bytes

std::atomic<unsigned long> fork_generation{0};

void discard_random_pools_in_child() {
  fork_generation.fetch_add(1, std::memory_order_relaxed);
}

bool random_pool_allowed() {
  static const bool registered = pthread_atfork(nullptr, nullptr, discard_random_pools_in_child) == 0;
  return registered;
}

struct RandomPool {
  unsigned char bytes[kPoolBytes];
  size_t next = kPoolBytes; // empty
  unsigned long generation = 0;
  ~RandomPool() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

void draw_random(unsigned char* out, size_t n) {
  if (n == 0) return;
  if (n > kPoolMaxDraw || !random_pool_allowed()) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) crypto_abort("RAND_bytes");
    return;
  }
  thread_local RandomPool pool;
  unsigned long generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation) {
    // A forked child: what is left was drawn by the parent, which hands it out itself.
    OPENSSL_cleanse(pool.bytes, sizeof pool.bytes);
    pool.next = kPoolBytes;
    pool.generation = generation;
  }
  if (kPoolBytes - pool.next < n) {
    if (RAND_bytes(pool.bytes, static_cast<int>(kPoolBytes)) != 1) crypto_abort("RAND_bytes");
    pool.next = 0;
  }
  std::memcpy(out, pool.bytes + pool.next, n);
  OPENSSL_cleanse(pool.bytes + pool.next, n);
  pool.next += n;
}

// Algorithms are fetched from the provider once per process: an implicit fetch (a name
// lookup under a lock) on every call cost as much as a small digest. Fetched objects are
// read-only and shared by all threads; they are kept for the life of the process.
const EVP_MD* fetched_sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr); // shared, never freed
  if (!md) crypto_abort("SHA-256 fetch");
  return md;
}

const EVP_CIPHER* fetched_aes256gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr); // shared, never freed
  if (!cipher) crypto_abort("AES-256-GCM fetch");
  return cipher;
}

// A context already keyed with `key`, one per key and thread: keying (HMAC's pads, AES's
// key schedule and GHASH table) costs about as much as a small call's work. The keys are
// the few derived at start and configured secrets; past kMaxKeyed a thread starts over.
// make(key) returns a keyed context, or null, which is not kept. Each instantiation
// (each `Make`) has its own cache, destroyed with its thread.
template <class Ctx, class Make> typename Ctx::pointer keyed_context(std::string_view key, Make make) {
  struct Keyed {
    std::string key;
    Ctx ctx;
  };
  static constexpr size_t kMaxKeyed = 8;
  thread_local std::vector<Keyed> keyed;
  auto found = std::find_if(keyed.begin(), keyed.end(), [&](const Keyed& k) { return k.key == key; });
  if (found != keyed.end()) return found->ctx.get();
  Ctx made = make(key);
  if (!made) return nullptr;
  if (keyed.size() >= kMaxKeyed) keyed.clear();
  keyed.push_back({std::string(key), std::move(made)});
  return keyed.back().ctx.get();
}

// This thread's AES-256-GCM context for key32, null if OpenSSL cannot make one. Seal and
// open share it: every call sets a nonce with a null cipher and key, which keeps both and
// resets the GCM state (lengths, tag, direction) left by the last call, failed or not.
// GCM encrypts with the AES key schedule in both directions, so one keying serves both.
EVP_CIPHER_CTX* gcm_context(std::string_view key32) {
  return keyed_context<CipherCtx>(key32, [](std::string_view key) {
    CipherCtx made(EVP_CIPHER_CTX_new());
    if (!made || EVP_EncryptInit_ex2(made.get(), fetched_aes256gcm(), u8(key), nullptr, nullptr) != 1)
      return CipherCtx();
    return made;
  });
}

} // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  draw_random(u8(out), n);
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(u8(out), u8(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=')
    s.pop_back();
  for (char& c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return s;
}

Result<std::string> base64url_decode(std::string_view text) {
  return decode_b64(text, true);
}
Result<std::string> base64_decode(std::string_view text) {
  return decode_b64(text, false);
}

std::string hex_encode(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string sha256(std::string_view data) {
  // EVP_Digest fetched SHA-256 and made a context on every call, more than hashing a
  // small input costs. Each thread keeps one context and reinitialises it.
  thread_local MdCtx ctx(EVP_MD_CTX_new());
  std::string out(32, '\0');
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), fetched_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), u8(out), &len) != 1)
    crypto_abort("SHA-256");
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // Fetching HMAC and SHA-256 from the provider and keying a new context cost twice the
  // MAC itself (callgrind: 21k instructions a call, 8k this way). A context from
  // keyed_context is reset with a null key, which keeps the key (EVP_MAC_init(3)); a
  // context just keyed is reset too, which costs nothing worth a flag.
  EVP_MAC_CTX* ctx = keyed_context<MacCtx>(key, [](std::string_view k) {
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr); // shared, never freed
    if (!hmac) crypto_abort("HMAC fetch");
    MacCtx made(EVP_MAC_CTX_new(hmac));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // An empty key is legal for HMAC but OpenSSL wants a non-null pointer.
    static const unsigned char zero = 0;
    if (!made || EVP_MAC_init(made.get(), k.empty() ? &zero : u8(k), k.size(), params) != 1)
      crypto_abort("HMAC-SHA256");
    return made;
  });
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) crypto_abort("HMAC-SHA256");
  std::string out(32, '\0');
  size_t len = 0;
  if (EVP_MAC_update(ctx, u8(data), data.size()) != 1 || EVP_MAC_final(ctx, u8(out), &len, out.size()) != 1)
    crypto_abort("HMAC-SHA256");
  return out;
}

std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, size_t length) {
  Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) crypto_abort("HKDF fetch");
  KdfCtx ctx(EVP_KDF_CTX_new(kdf.get()));
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  int i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[i++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(key.data()), key.size());
  if (!salt.empty())
    params[i++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size());
  params[i++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  params[i] = OSSL_PARAM_construct_end();
  std::string out(length, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), u8(out), length, params) != 1) crypto_abort("HKDF-SHA256");
  return out;
}

std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext, std::string_view aad) {
  if (key32.size() != 32) crypto_abort("AES-256-GCM key size");
  std::string out = random_bytes(kGcmNonce);
  out.resize(kGcmNonce + plaintext.size() + kGcmTag);
  EVP_CIPHER_CTX* ctx = gcm_context(key32);
  int len = 0;
  unsigned char* nonce = u8(out);
  unsigned char* ct = nonce + kGcmNonce;
  if (!ctx || EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, ct, &len, u8(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTag, ct + plaintext.size()) != 1)
    crypto_abort("AES-256-GCM seal");
  return out;
}

Result<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed, std::string_view aad) {
  if (key32.size() != 32) return make_error(ErrorKind::internal, "AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kGcmNonce + kGcmTag)
    return make_error(ErrorKind::internal, "sealed value is too short");
  size_t ct_len = sealed.size() - kGcmNonce - kGcmTag;
  std::string out(ct_len, '\0');
  std::string tag(sealed.substr(kGcmNonce + ct_len));
  EVP_CIPHER_CTX* ctx = gcm_context(key32);
  int len = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex2(ctx, nullptr, nullptr, u8(sealed), nullptr) == 1 &&
      (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) == 1) &&
      EVP_DecryptUpdate(ctx, u8(out), &len, u8(sealed) + kGcmNonce, static_cast<int>(ct_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, u8(out) + len, &len) == 1;
  if (!ok)
    return make_error(ErrorKind::internal, "sealed value failed authentication (wrong key or tampered)");
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Keys derive_keys(std::string_view secret) {
  // One salt for the project, one info label per purpose: the keys are independent.
  constexpr std::string_view salt = "oauth-fcgi v1";
  return Keys{hkdf_sha256(secret, salt, "cookie-mac", 32), hkdf_sha256(secret, salt, "store-key", 32),
              hkdf_sha256(secret, salt, "token-encryption", 32)};
}

} // namespace oauthfcgi
