#include "crypto.hpp"

#include "clock.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace oauthfcgi;

namespace {
std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// What `draw` returns in a forked child, read back through a pipe.
std::string in_forked_child(std::string (*draw)()) {
  int fds[2];
  if (pipe(fds) != 0) return "(no pipe)";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string s = draw();
    ssize_t n = write(fds[1], s.data(), s.size());
    _exit(n == static_cast<ssize_t>(s.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "(child failed)";
}
} // namespace

TEST(Crypto, RandomBytesHaveTheAskedLengthAcrossPoolRefills) {
  // Around the pool's draw limit (64) and its size (512), and past both.
  for (size_t n : {0, 1, 12, 31, 32, 33, 63, 64, 65, 100, 511, 512, 513, 4096})
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(random_bytes(n).size(), n) << n;
}

TEST(Crypto, NoTwoTokensAreEqualOverManyDraws) {
  // Many times the pool, in draw sizes that leave odd remainders at each refill.
  std::set<std::string> tokens, nonces;
  for (int i = 0; i < 20000; ++i) {
    tokens.insert(system_random().token(32));
    nonces.insert(random_bytes(12));
  }
  EXPECT_EQ(tokens.size(), 20000u);
  EXPECT_EQ(nonces.size(), 20000u);
}

TEST(Crypto, ThreadsDrawDifferentBytes) {
  auto drawn = testutil::drawn_on_threads(4, 2000, [] { return random_bytes(32); });
  EXPECT_EQ(std::set<std::string>(drawn.begin(), drawn.end()).size(), 4u * 2000u);
}

TEST(Crypto, AForkedChildDoesNotHandOutWhatItsParentWill) {
  (void)random_bytes(32); // the pool now holds bytes the parent will hand out next
  std::string child = in_forked_child([] { return random_bytes(32) + random_bytes(32); });
  ASSERT_EQ(child.size(), 64u) << child;
  std::string parent = random_bytes(32) + random_bytes(32);
  EXPECT_NE(child.substr(0, 32), parent.substr(0, 32));
  EXPECT_NE(child.substr(32), parent.substr(32));
}

TEST(Crypto, RandomBytesHaveTheAskedLengthAndDiffer) {
  EXPECT_EQ(random_bytes(32).size(), 32u);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; i++)
    seen.insert(random_bytes(16));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Crypto, RandomTokenIsUnpaddedBase64url) {
  std::string t = system_random().token(32);
  EXPECT_EQ(t.size(), 43u); // 256 bits
  EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(Crypto, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(base64_decode("").value(), "");
}

TEST(Crypto, Base64urlRoundTripsEveryByteWithoutPadding) {
  std::string all;
  for (int i = 0; i < 256; i++)
    all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < all.size(); n += 7) {
    std::string enc = base64url_encode(all.substr(0, n));
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = base64url_decode(enc);
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(dec.value(), all.substr(0, n));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8").value(), "\xfb\xff");
  EXPECT_EQ(base64url_decode("-_8=").value(), "\xfb\xff");
}

TEST(Crypto, Base64DecodeRefusesGarbage) {
  EXPECT_FALSE(base64_decode("Zm9").ok());
  EXPECT_FALSE(base64_decode("Zm9v!").ok());
  EXPECT_FALSE(base64_decode("Z===").ok());
  EXPECT_FALSE(base64url_decode("a").ok());
  EXPECT_FALSE(base64url_decode("ab+c").ok());
  EXPECT_FALSE(base64url_decode("a b").ok());
}

TEST(Crypto, Sha256MatchesKnownDigest) {
  EXPECT_EQ(hex_encode(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 7636 appendix B: the S256 code challenge of the example verifier.
  EXPECT_EQ(base64url_encode(sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Crypto, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_sha256("", "x").size(), 32u);
}

TEST(Crypto, HkdfMatchesRfc5869Case1) {
  std::string ikm(22, '\x0b');
  std::string salt = unhex("000102030405060708090a0b0c");
  std::string info = unhex("f0f1f2f3f4f5f6f7f8f9");
  EXPECT_EQ(hex_encode(hkdf_sha256(ikm, salt, info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Crypto, AesGcmSealsAndOpens) {
  std::string key = random_bytes(32);
  std::string sealed = aes256gcm_seal(key, "access-token-value", "session:1");
  EXPECT_EQ(sealed.size(), 12u + 18u + 16u);
  EXPECT_EQ(sealed.find("access-token-value"), std::string::npos);
  auto opened = aes256gcm_open(key, sealed, "session:1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened.value(), "access-token-value");
}

TEST(Crypto, AesGcmUsesAFreshNonceEachTime) {
  std::string key = random_bytes(32);
  EXPECT_NE(aes256gcm_seal(key, "same"), aes256gcm_seal(key, "same"));
}

TEST(Crypto, AesGcmRefusesTamperingWrongKeyAndWrongAad) {
  std::string key = random_bytes(32);
  std::string sealed = aes256gcm_seal(key, "secret", "aad");
  for (size_t i = 0; i < sealed.size(); i++) {
    std::string t = sealed;
    t[i] ^= 1;
    EXPECT_FALSE(aes256gcm_open(key, t, "aad").ok()) << "flipped byte " << i;
    // A refusal leaves nothing behind in the thread's context for this key.
    EXPECT_TRUE(aes256gcm_open(key, sealed, "aad").ok()) << "after flipped byte " << i;
  }
  EXPECT_FALSE(aes256gcm_open(random_bytes(32), sealed, "aad").ok());
  EXPECT_FALSE(aes256gcm_open(key, sealed, "other").ok());
  EXPECT_FALSE(aes256gcm_open(key, sealed.substr(0, 20), "aad").ok());
  EXPECT_FALSE(aes256gcm_open("short", sealed, "aad").ok());
}

TEST(Crypto, AesGcmHandlesEmptyPlaintext) {
  std::string key = random_bytes(32);
  auto opened = aes256gcm_open(key, aes256gcm_seal(key, ""));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened.value(), "");
}

TEST(Crypto, AesGcmOpensTheSpecificationVector) {
  // GCM specification (McGrew and Viega), test case 16: AES-256, 96-bit nonce, associated data.
  std::string key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::string sealed = unhex("cafebabefacedbaddecaf888"
                             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                             "76fc6ece0f4e1768cddf8853bb2d551b");
  std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string plain = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  // Twice, around calls with another key and a refusal, on this thread's cached contexts.
  for (int round = 0; round < 2; ++round) {
    auto opened = aes256gcm_open(key, sealed, aad);
    ASSERT_TRUE(opened.ok()) << round;
    EXPECT_EQ(opened.value(), plain);
    std::string other = random_bytes(32);
    EXPECT_TRUE(aes256gcm_open(other, aes256gcm_seal(other, "x", "y"), "y").ok());
    EXPECT_FALSE(aes256gcm_open(key, sealed, "other aad").ok());
  }
}

TEST(Crypto, AesGcmTwoKeysInterleavedNeverMix) {
  std::string a = random_bytes(32), b = random_bytes(32);
  std::string record(450, 'r');
  for (int i = 0; i < 500; ++i) {
    std::string aad = "session:" + std::to_string(i);
    std::string plain = record + std::to_string(i);
    std::string by_a = aes256gcm_seal(a, plain, aad);
    std::string by_b = aes256gcm_seal(b, plain, aad);
    // Each opens with its own key only, whichever key the thread used last.
    EXPECT_FALSE(aes256gcm_open(a, by_b, aad).ok()) << i;
    auto opened_a = aes256gcm_open(a, by_a, aad);
    EXPECT_FALSE(aes256gcm_open(b, by_a, aad).ok()) << i;
    auto opened_b = aes256gcm_open(b, by_b, aad);
    ASSERT_TRUE(opened_a.ok() && opened_b.ok()) << i;
    EXPECT_EQ(opened_a.value(), plain);
    EXPECT_EQ(opened_b.value(), plain);
  }
}

TEST(Crypto, AesGcmSealsAndOpensOnSeveralThreadsAtOnce) {
  std::string a = random_bytes(32), b = random_bytes(32);
  std::string from_main = aes256gcm_seal(a, "sealed on the main thread", "main");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string& key = (i + t) % 2 == 0 ? a : b;
        const std::string& other = &key == &a ? b : a;
        std::string aad = std::to_string(t) + ":" + std::to_string(i);
        std::string plain = std::string(450, static_cast<char>('a' + t)) + aad;
        std::string sealed = aes256gcm_seal(key, plain, aad);
        auto opened = aes256gcm_open(key, sealed, aad);
        if (!opened.ok() || opened.value() != plain) failures++;
        if (aes256gcm_open(other, sealed, aad).ok()) failures++;
        auto main_value = aes256gcm_open(a, from_main, "main");
        if (!main_value.ok() || main_value.value() != "sealed on the main thread") failures++;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Crypto, AesGcmKeepsWorkingWithMoreKeysThanAThreadKeeps) {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i)
    keys.push_back(random_bytes(32));
  std::vector<std::string> sealed;
  for (const auto& key : keys)
    sealed.push_back(aes256gcm_seal(key, "value", "aad"));
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < keys.size(); ++i) {
      auto opened = aes256gcm_open(keys[i], sealed[i], "aad");
      ASSERT_TRUE(opened.ok()) << i;
      EXPECT_EQ(opened.value(), "value");
      EXPECT_FALSE(aes256gcm_open(keys[(i + 1) % keys.size()], sealed[i], "aad").ok()) << i;
    }
}

TEST(Crypto, AesGcmNoncesDifferBetweenSeals) {
  std::string a = random_bytes(32), b = random_bytes(32);
  std::set<std::string> nonces;
  for (int i = 0; i < 5000; ++i) {
    nonces.insert(aes256gcm_seal(a, "same", "same").substr(0, 12));
    nonces.insert(aes256gcm_seal(b, "same", "same").substr(0, 12));
  }
  EXPECT_EQ(nonces.size(), 10000u);
}

TEST(Crypto, ConstantTimeEqualComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(Crypto, DerivedKeysAreIndependentAndStable) {
  Keys a = derive_keys(std::string(32, 's'));
  Keys b = derive_keys(std::string(32, 's'));
  Keys c = derive_keys(std::string(32, 't'));
  EXPECT_EQ(a.cookie, b.cookie);
  EXPECT_EQ(a.encryption.size(), 32u);
  EXPECT_NE(a.cookie, a.store_key);
  EXPECT_NE(a.cookie, a.encryption);
  EXPECT_NE(a.store_key, a.encryption);
  EXPECT_NE(a.cookie, c.cookie);
}
