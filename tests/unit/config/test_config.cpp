#include "access.hpp"
#include "config_load.hpp"
#include "provider_types.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <sys/stat.h>

#include "test_util.hpp"

using namespace oauthfcgi;

namespace {

const std::string kSecret(40, 'S');

// A temp dir with the files a config points at, and helpers to parse text against it.
class ConfigTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir.write("secret", kSecret + "\n");
    dir.write("github.secret", "gh-secret-value\n");
    dir.write("redis.pw", "redis-file-pw\n");
  }

  ConfigLoad parse(const std::string& text) { return parse_config(text, file(), dir.path()); }
  std::string file() const { return dir.file("oauth.conf"); }

  // The smallest valid config: everything else takes its default.
  static std::string minimal(const std::string& extra = {}) {
    return "[server]\n"
           "public_url = https://www.example.com\n"
           "secret_file = secret\n"
           "\n"
           "[provider github]\n"
           "type = github\n"
           "client_id = Iv1.abc\n"
           "client_secret_file = github.secret\n" +
           extra;
  }

  static std::string all_messages(const ConfigLoad& load) {
    std::string out;
    for (const auto& p : load.problems)
      out += p.to_string() + "\n";
    return out;
  }

  // True when some error (not warning) is on `line` and mentions `text`.
  static bool has_error(const ConfigLoad& load, int line, const std::string& text) {
    return std::any_of(load.problems.begin(), load.problems.end(), [&](const ConfigProblem& p) {
      return !p.warning && p.line == line && p.message.find(text) != std::string::npos;
    });
  }

  testutil::TempDir dir;
};

#define EXPECT_ERROR(load, line, text) EXPECT_TRUE(has_error(load, line, text)) << all_messages(load)
#define ASSERT_OK(load) ASSERT_TRUE((load).ok()) << all_messages(load)

} // namespace

// ---- valid configs --------------------------------------------------------------------

TEST_F(ConfigTest, FullSampleConfigFillsEveryField) {
  dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  dir.write("client.secret", "cc-secret\r\n");
  auto load = parse(R"(; a full sample
# with both comment styles
[server]
public_url   = https://WWW.Example.com:443/
route_prefix = /login
after_login  = /welcome?x=1
after_logout = /bye
secret_file  = secret
default_provider = corp
log_level    = debug
log_format   = json
threads      = 16

[redis]
url = redis://:p%40ss@redis.internal:6380/3
key_prefix = app:
timeout_ms = 250

[session]
cookie_name = sid
ttl = 3600
idle_timeout = 900

[http]
connect_timeout_ms = 1000
timeout_ms = 5000
max_response_bytes = 2048
ca_file = ca.pem

[limits]
max_query_bytes = 100
max_cookie_bytes = 200
max_header_bytes = 300
max_body_bytes = 400

[access]
allowed_emails = Alice@Example.com, bob@example.com
allowed_domains = @Example.org example.net
allowed_users = github:alice corp:id:7
github_orgs = acme

[provider github]
type = github
client_id = Iv1.abc
client_secret_file = github.secret
scope = read:user user:email
emails_url = https://ghe.example.com/api/v3/user/emails
github_orgs = acme-inc

[provider corp]
type = oidc
issuer = https://id.example.com/realms/main
client_id = corp-app
client_secret = inline-secret
pkce = no
allowed_domains = example.com

[provider fb]
type = facebook
client_id = 123
client_secret = fbsecret
graph_version = v18.0
debug_token_url = http://127.0.0.1:9000/debug_token

[provider gl]
type = gitlab
client_id = gl
client_secret = glsecret
base_url = https://git.example.com/

[provider generic]
type = oauth2
client_id = g
client_secret = gs
authorize_url = https://auth.example.com/authorize
token_url = https://auth.example.com/token
userinfo_url = https://auth.example.com/userinfo
revoke_url = https://auth.example.com/revoke
scope =

[client backend]
token_url = https://auth.example.com/token
client_id = backend
client_secret_file = client.secret
scope = api.read api.write
auth_method = client_secret_post
cache = memory
)");
  ASSERT_OK(load);
  EXPECT_TRUE(load.problems.empty()) << all_messages(load);
  const Config& c = load.config;
  EXPECT_EQ(c.path, file());
  EXPECT_EQ(c.server.public_url, "https://www.example.com");
  EXPECT_TRUE(c.server.public_url_https);
  EXPECT_EQ(c.server.route_prefix, "/login");
  EXPECT_EQ(c.server.after_login, "/welcome?x=1");
  EXPECT_EQ(c.server.after_logout, "/bye");
  EXPECT_EQ(c.server.secret, kSecret);
  EXPECT_EQ(c.server.default_provider, "corp");
  EXPECT_EQ(c.server.log_level, LogLevel::debug);
  EXPECT_EQ(c.server.log_format, LogFormat::json);
  EXPECT_EQ(c.server.threads, 16);

  EXPECT_EQ(c.redis.url, "redis://:p%40ss@redis.internal:6380/3");
  EXPECT_FALSE(c.redis.unix_socket);
  EXPECT_EQ(c.redis.host, "redis.internal");
  EXPECT_EQ(c.redis.port, 6380);
  EXPECT_EQ(c.redis.db, 3);
  EXPECT_EQ(c.redis.password, "p@ss");
  EXPECT_EQ(c.redis.key_prefix, "app:");
  EXPECT_EQ(c.redis.timeout_ms, 250);

  EXPECT_EQ(c.session.cookie_name, "__Host-sid");
  EXPECT_EQ(c.session.ttl, 3600);
  EXPECT_EQ(c.session.idle_timeout, 900);

  EXPECT_EQ(c.http.connect_timeout_ms, 1000);
  EXPECT_EQ(c.http.timeout_ms, 5000);
  EXPECT_EQ(c.http.max_response_bytes, 2048);
  EXPECT_EQ(c.http.ca_file, dir.file("ca.pem"));

  EXPECT_EQ(c.limits.max_query_bytes, 100);
  EXPECT_EQ(c.limits.max_cookie_bytes, 200);
  EXPECT_EQ(c.limits.max_header_bytes, 300);
  EXPECT_EQ(c.limits.max_body_bytes, 400);

  EXPECT_EQ(c.access.allowed_emails, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(c.access.allowed_domains, (std::vector<std::string>{"example.org", "example.net"}));
  ASSERT_EQ(c.access.allowed_users.size(), 2u);
  EXPECT_EQ(c.access.allowed_users[0].provider, "github");
  EXPECT_EQ(c.access.allowed_users[0].value, "alice");
  EXPECT_EQ(c.access.allowed_users[1].kind, UserRef::Kind::id);
  EXPECT_EQ(c.access.allowed_users[1].value, "7");
  EXPECT_EQ(c.access.github_orgs, (std::vector<std::string>{"acme"}));

  ASSERT_EQ(c.providers.size(), 5u);
  const ProviderConfig* gh = c.find_provider("github");
  ASSERT_NE(gh, nullptr);
  EXPECT_EQ(gh->type, ProviderType::github);
  EXPECT_EQ(gh->client_id, "Iv1.abc");
  EXPECT_EQ(gh->client_secret, "gh-secret-value");
  EXPECT_EQ(gh->scope, (std::vector<std::string>{"read:user", "user:email"}));
  EXPECT_TRUE(gh->scope_set);
  EXPECT_EQ(gh->emails_url, "https://ghe.example.com/api/v3/user/emails");
  EXPECT_EQ(gh->authorize_url, ""); // per-type defaults are applied elsewhere
  EXPECT_EQ(gh->access.github_orgs, (std::vector<std::string>{"acme-inc"}));
  EXPECT_TRUE(gh->pkce);
  EXPECT_GT(gh->line, 0);

  const ProviderConfig* corp = c.find_provider("corp");
  ASSERT_NE(corp, nullptr);
  EXPECT_EQ(corp->type, ProviderType::oidc);
  EXPECT_EQ(corp->issuer, "https://id.example.com/realms/main");
  EXPECT_EQ(corp->client_secret, "inline-secret");
  EXPECT_FALSE(corp->pkce);
  EXPECT_FALSE(corp->scope_set);
  EXPECT_EQ(corp->access.allowed_domains, (std::vector<std::string>{"example.com"}));

  EXPECT_EQ(c.find_provider("fb")->graph_version, "v18.0");
  EXPECT_EQ(c.find_provider("fb")->debug_token_url, "http://127.0.0.1:9000/debug_token");
  EXPECT_EQ(c.find_provider("gl")->base_url, "https://git.example.com");
  const ProviderConfig* generic = c.find_provider("generic");
  EXPECT_EQ(generic->revoke_url, "https://auth.example.com/revoke");
  EXPECT_TRUE(generic->scope_set);
  EXPECT_TRUE(generic->scope.empty());
  EXPECT_EQ(c.find_provider("nope"), nullptr);

  ASSERT_EQ(c.clients.size(), 1u);
  const ClientConfig* cl = c.find_client("backend");
  ASSERT_NE(cl, nullptr);
  EXPECT_EQ(cl->client_secret, "cc-secret");
  EXPECT_EQ(cl->scope, (std::vector<std::string>{"api.read", "api.write"}));
  EXPECT_EQ(cl->auth_method, ClientAuthMethod::client_secret_post);
  EXPECT_EQ(cl->cache, TokenCache::memory);
  EXPECT_EQ(c.find_client("github"), nullptr);
}

TEST_F(ConfigTest, MinimalConfigGetsTheDocumentedDefaults) {
  auto load = parse(minimal());
  ASSERT_OK(load);
  const Config& c = load.config;
  EXPECT_EQ(c.server.route_prefix, "/auth");
  EXPECT_EQ(c.server.after_login, "/");
  EXPECT_EQ(c.server.after_logout, "/");
  EXPECT_EQ(c.server.default_provider, ""); // unset: the chooser page
  EXPECT_EQ(c.server.log_level, LogLevel::info);
  EXPECT_EQ(c.server.log_format, LogFormat::text);
  EXPECT_EQ(c.server.threads, 8);
  EXPECT_EQ(c.server.max_threads, 512);
  EXPECT_EQ(c.redis.host, "127.0.0.1");
  EXPECT_EQ(c.redis.port, 6379);
  EXPECT_EQ(c.redis.db, 0);
  EXPECT_EQ(c.redis.key_prefix, "oauth:");
  EXPECT_EQ(c.redis.timeout_ms, 500);
  EXPECT_EQ(c.session.cookie_name, "__Host-oauth_session");
  EXPECT_EQ(c.session.ttl, 86400);
  EXPECT_EQ(c.session.idle_timeout, 0);
  EXPECT_EQ(c.http.connect_timeout_ms, 3000);
  EXPECT_EQ(c.http.timeout_ms, 10000);
  EXPECT_EQ(c.http.max_response_bytes, 1048576);
  EXPECT_EQ(c.http.ca_file, "");
  EXPECT_EQ(c.limits.max_query_bytes, 8192);
  EXPECT_EQ(c.limits.max_cookie_bytes, 8192);
  EXPECT_EQ(c.limits.max_header_bytes, 16384);
  EXPECT_EQ(c.limits.max_body_bytes, 65536);
  EXPECT_TRUE(c.access.empty());
  EXPECT_TRUE(c.providers[0].pkce);
  EXPECT_FALSE(c.providers[0].scope_set);
}

TEST_F(ConfigTest, CommentsBlankLinesWhitespaceAndCrlfAreAccepted) {
  auto load =
      parse("\xEF\xBB\xBF; comment\r\n  # indented comment\r\n\r\n  [server]  "
            "\r\n\tpublic_url\t=\thttps://a.example\r\n"
            "secret_file=secret\r\n[provider github]\r\ntype=github\r\nclient_id=x\r\nclient_secret=y\r\n");
  ASSERT_OK(load);
  EXPECT_EQ(load.config.server.public_url, "https://a.example");
  EXPECT_EQ(load.config.providers[0].client_secret, "y");
}

TEST_F(ConfigTest, ValuesMayHoldHashAndSemicolon) {
  auto load = parse(minimal("allowed_users = a#b c;d\n"));
  ASSERT_OK(load);
  const auto& users = load.config.providers[0].access.allowed_users;
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].value, "a#b");
  EXPECT_EQ(users[1].value, "c;d");
}

// The attacks of issue 18 item 2, through the config as an admin writes it.
namespace {

Profile signed_in(const std::string& provider, const std::string& id, const std::string& login) {
  Profile p;
  p.provider = provider;
  p.id = id;
  p.login = login;
  return p;
}

bool admitted(const Config& c, const std::string& provider, const std::string& id, const std::string& login) {
  const ProviderConfig* pc = c.find_provider(provider);
  return pc && check_access(c, *pc, signed_in(provider, id, login), {}).allowed;
}

} // namespace

TEST_F(ConfigTest, AllowedUsersNeverTakesALoginForAnId) {
  auto load = parse(minimal("allowed_users = 1001 id:2002\n"));
  ASSERT_OK(load);
  EXPECT_TRUE(admitted(load.config, "github", "9", "1001")) << "1001 is a login";
  EXPECT_FALSE(admitted(load.config, "github", "1001", "mallory")) << "1001 is not an id";
  EXPECT_TRUE(admitted(load.config, "github", "2002", "bob"));
  EXPECT_FALSE(admitted(load.config, "github", "7", "2002")) << "id:2002 is not a login";
  EXPECT_FALSE(admitted(load.config, "github", "7", "id:2002"));
}

TEST_F(ConfigTest, AccessEntriesAdmitOnlyThroughTheProviderTheyName) {
  auto load = parse(minimal("[provider gl]\ntype = gitlab\nclient_id = g\nclient_secret = s\n"
                            "[access]\nallowed_users = github:alice gl:id:7\n"));
  ASSERT_OK(load);
  EXPECT_TRUE(admitted(load.config, "github", "1", "Alice"));
  EXPECT_FALSE(admitted(load.config, "gl", "1", "alice")) << "another provider's alice";
  EXPECT_TRUE(admitted(load.config, "gl", "7", "x"));
  EXPECT_FALSE(admitted(load.config, "github", "7", "x")) << "another provider's id 7";
}

TEST_F(ConfigTest, UnqualifiedAccessEntryIsRefusedWithItsRewrite) {
  auto load = parse(minimal("[access]\nallowed_users = alice id:1001\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 10, "allowed_users entry \"alice\" in [access] names no provider (write github:alice");
  EXPECT_ERROR(load, 10, "write github:id:1001");
}

TEST_F(ConfigTest, AccessEntryMustNameAConfiguredProvider) {
  auto load = parse(minimal("[access]\nallowed_users = gitlab:alice\n"));
  EXPECT_ERROR(load, 10, "names no [provider gitlab]");
  load = parse(minimal("allowed_users = gl:alice\n"));
  EXPECT_ERROR(load, 9, "in [provider github] can only name github");
  load = parse(minimal("allowed_users = id: github: :x github:id:\n"));
  EXPECT_ERROR(load, 9, "allowed_users entry \"id:\" is not a user");
  EXPECT_ERROR(load, 9, "allowed_users entry \"github:\" is not a user");
  EXPECT_ERROR(load, 9, "allowed_users entry \":x\" is not a user");
  EXPECT_ERROR(load, 9, "allowed_users entry \"github:id:\" is not a user");
}

TEST_F(ConfigTest, AllowUrlsAreAbsoluteHttpsPrefixes) {
  auto client = [](const std::string& allow) {
    return "[server]\npublic_url = https://a.example\nsecret_file = secret\n"
           "[client api]\ntoken_url = https://idp.example/token\nclient_id = c\nclient_secret = s\n"
           "allow_urls = " +
           allow + "\n";
  };
  auto load = parse(client("https://api.example.com/v1 http://127.0.0.1:8080/ https://b.example"));
  ASSERT_OK(load);
  EXPECT_EQ(load.config.clients[0].allow_urls,
            (std::vector<std::string>{"https://api.example.com/v1", "http://127.0.0.1:8080/",
                                      "https://b.example"}));
  for (const char* bad : {"api.example.com/v1", "/v1", "http://api.example.com/", "ftp://a.example/",
                          "https://a.example/v1?x=1", "https://a.example/v1#f", "https://u@a.example/",
                          "https://a.example/%2e%2e/v1"}) {
    load = parse(client(bad));
    EXPECT_ERROR(load, 8, "allow_urls entry \"" + std::string(bad) + "\" is not a URL prefix");
  }
}

TEST_F(ConfigTest, ClientOnlyConfigNeedsNoProvider) {
  auto load =
      parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
            "[client api]\ntoken_url = https://idp.example/token\nclient_id = c\nclient_secret = s\n");
  ASSERT_OK(load);
  EXPECT_EQ(load.config.server.default_provider, "");
  EXPECT_EQ(load.config.clients[0].auth_method, ClientAuthMethod::client_secret_basic);
  EXPECT_EQ(load.config.clients[0].cache, TokenCache::redis);
}

// ---- mistakes: each reported with file and line ----------------------------------------

TEST_F(ConfigTest, UnknownSectionIsAnErrorNamingFileAndLine) {
  auto load = parse(minimal("[sever]\nfoo = bar\n"));
  EXPECT_FALSE(load.ok());
  ASSERT_EQ(load.problems.size(), 1u) << all_messages(load); // keys inside it are not reported again
  EXPECT_EQ(load.problems[0].line, 9);
  EXPECT_EQ(load.problems[0].file, file());
  EXPECT_EQ(load.problems[0].to_string().rfind(file() + ":9: unknown section [sever]", 0), 0u)
      << load.problems[0].to_string();
  EXPECT_NE(load.problems[0].message.find("[provider NAME]"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorNamingFileAndLine) {
  auto load = parse("[server]\npublc_url = https://a.example\nsecret_file = secret\n"
                    "[provider github]\ntype = github\nclient_id = x\nclient_secret = y\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 2, "unknown key \"publc_url\" in [server]");
  EXPECT_ERROR(load, 2, "did you mean \"public_url\"");
  EXPECT_ERROR(load, 2, "known keys: public_url, route_prefix");
  EXPECT_ERROR(load, 1, "missing public_url"); // and the consequence, at the section
  bool found = false;
  for (const auto& p : load.problems)
    found |= p.to_string().rfind(file() + ":2: unknown key", 0) == 0;
  EXPECT_TRUE(found) << all_messages(load);
}

TEST_F(ConfigTest, UnknownKeyInProviderSectionNamesTheSection) {
  auto load = parse(minimal("client_secert = x\n"));
  EXPECT_ERROR(load, 9, "unknown key \"client_secert\" in [provider github]");
}

TEST_F(ConfigTest, DuplicateKeyIsAnError) {
  auto load = parse(minimal("client_id = other\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 9, "duplicate key \"client_id\" in [provider github] (already set on line 7");
  EXPECT_EQ(load.config.providers[0].client_id, "Iv1.abc"); // the first one stands
}

TEST_F(ConfigTest, RepeatedPlainSectionsMergeButKeysStillMayNotRepeat) {
  auto load = parse(minimal("[server]\nthreads = 4\n[server]\nthreads = 5\n"));
  EXPECT_ERROR(load, 12, "duplicate key \"threads\" in [server]");
  EXPECT_EQ(load.config.server.threads, 4);
}

TEST_F(ConfigTest, DuplicateProviderNameIsAnError) {
  auto load = parse(minimal("[provider github]\ntype = github\nclient_id = b\nclient_secret = c\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 9, "duplicate [provider github] (first on line 5");
  EXPECT_EQ(load.problems.size(), 1u) << all_messages(load);
  EXPECT_EQ(load.config.providers.size(), 1u);
}

TEST_F(ConfigTest, DuplicateClientNameIsAnError) {
  std::string client =
      "[client api]\ntoken_url = https://idp.example/token\nclient_id = c\nclient_secret = s\n";
  auto load = parse(minimal(client + client));
  EXPECT_ERROR(load, 13, "duplicate [client api] (first on line 9");
}

TEST_F(ConfigTest, ProviderNamesMustBeUrlSafe) {
  for (const char* header :
       {"[provider my provider]", "[provider a/b]", "[provider caf\xC3\xA9]", "[provider]"}) {
    auto load = parse(minimal(std::string(header) + "\ntype = github\n"));
    EXPECT_FALSE(load.ok()) << header;
    EXPECT_TRUE(std::any_of(load.problems.begin(), load.problems.end(),
                            [](const ConfigProblem& p) { return p.line == 9; }))
        << header << "\n"
        << all_messages(load);
  }
  auto ok = parse(minimal("[provider My_IdP-2]\ntype = github\nclient_id = a\nclient_secret = b\n"));
  ASSERT_OK(ok);
  EXPECT_NE(ok.config.find_provider("My_IdP-2"), nullptr);
}

TEST_F(ConfigTest, PlainSectionTakesNoName) {
  auto load = parse(minimal("[server extra]\n"));
  EXPECT_ERROR(load, 9, "[server] takes no name");
}

TEST_F(ConfigTest, MalformedLinesAreErrors) {
  auto load = parse(minimal("just some words\n= value\n[server\n"));
  EXPECT_ERROR(load, 9, "expected \"key = value\"");
  EXPECT_ERROR(load, 10, "missing key");
  EXPECT_ERROR(load, 11, "malformed section header");
}

TEST_F(ConfigTest, KeyBeforeAnySectionIsAnError) {
  auto load = parse("threads = 4\n" + minimal());
  EXPECT_ERROR(load, 1, "key \"threads\" is outside any section");
}

TEST_F(ConfigTest, MaxThreadsIsTheCeilingOfTheWorkerPool) {
  auto load = parse(minimal("[server]\nmax_threads = 4096\n"));
  ASSERT_OK(load);
  EXPECT_EQ(load.config.server.max_threads, 4096);
  auto bad = parse(minimal("[server]\nmax_threads = 4097\n"));
  EXPECT_ERROR(bad, 10, "max_threads = 4097 is out of range (use a whole number from 1 to 4096)");
}

TEST_F(ConfigTest, BadIntegersNameTheKeyAndTheRange) {
  auto load =
      parse(minimal("[server]\nthreads = many\n[session]\nttl = -5\nidle_timeout = 1.5\n"
                    "[redis]\ntimeout_ms = 60001\n[http]\nmax_response_bytes = 1023\ntimeout_ms = 12abc\n"
                    "[limits]\nmax_body_bytes = 0\nmax_query_bytes = 99999999999999999999999\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 10, "threads = \"many\" is not a whole number (use a whole number from 1 to 256)");
  EXPECT_ERROR(load, 12, "ttl = -5 is out of range (use a whole number from 1 to");
  EXPECT_ERROR(load, 13, "idle_timeout = \"1.5\" is not a whole number (use a whole number from 0 to");
  EXPECT_ERROR(load, 15, "timeout_ms = 60001 is out of range (use a whole number from 1 to 60000)");
  EXPECT_ERROR(load, 17, "max_response_bytes = 1023 is out of range (use a whole number from 1024 to");
  EXPECT_ERROR(load, 18, "timeout_ms = \"12abc\" is not a whole number");
  EXPECT_ERROR(load, 20, "max_body_bytes = 0 is out of range");
  EXPECT_ERROR(load, 21, "max_query_bytes");
  EXPECT_EQ(load.config.server.threads, 8); // a bad value leaves the default
}

TEST_F(ConfigTest, BadEnumsListTheChoices) {
  auto load = parse(minimal("pkce = maybe\n[server]\nlog_level = verbose\nlog_format = xml\n"
                            "[client c]\ntoken_url = https://i.example/t\nclient_id = a\nclient_secret = b\n"
                            "auth_method = basic\ncache = disk\n"));
  EXPECT_ERROR(load, 9, "pkce = \"maybe\" is not a boolean (use true or false)");
  EXPECT_ERROR(load, 11, "log_level = \"verbose\" is not known (use one of: error, warn, info, debug)");
  EXPECT_ERROR(load, 12, "log_format = \"xml\" is not known (use one of: text, json)");
  EXPECT_ERROR(load, 17, "use one of: client_secret_basic, client_secret_post");
  EXPECT_ERROR(load, 18, "use one of: redis, memory");
}

TEST_F(ConfigTest, PkceAcceptsCommonBooleanSpellings) {
  for (const char* v : {"false", "no", "off", "0", "FALSE"}) {
    auto load = parse(minimal(std::string("pkce = ") + v + "\n"));
    ASSERT_OK(load);
    EXPECT_FALSE(load.config.providers[0].pkce) << v;
  }
  for (const char* v : {"true", "yes", "on", "1"}) {
    auto load = parse(minimal(std::string("pkce = ") + v + "\n"));
    ASSERT_OK(load);
    EXPECT_TRUE(load.config.providers[0].pkce) << v;
  }
}

TEST_F(ConfigTest, MissingPublicUrlIsAnError) {
  auto load = parse("[server]\nsecret_file = secret\n[provider github]\ntype = github\nclient_id = x\n"
                    "client_secret = y\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 1, "missing public_url in [server] (add public_url = https://");
}

TEST_F(ConfigTest, MissingServerSectionReportsBothRequiredKeysWithoutLine) {
  auto load = parse("[provider github]\ntype = github\nclient_id = x\nclient_secret = y\n");
  EXPECT_ERROR(load, 0, "missing public_url");
  EXPECT_ERROR(load, 0, "missing secret_file");
  EXPECT_EQ(load.problems[0].to_string().find(file() + ": "), 0u);
}

TEST_F(ConfigTest, PublicUrlMustBeABareOrigin) {
  for (const char* bad :
       {"www.example.com", "ftp://www.example.com", "https://www.example.com/app",
        "https://www.example.com/?x=1", "https://www.example.com/#f", "https://u@www.example.com", "/auth"}) {
    auto load =
        parse("[server]\npublic_url = " + std::string(bad) +
              "\nsecret_file = secret\n[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
    EXPECT_FALSE(load.ok()) << bad;
    EXPECT_TRUE(has_error(load, 2, "public_url")) << bad << "\n" << all_messages(load);
  }
}

TEST_F(ConfigTest, PublicUrlTrailingSlashAndDefaultPortAreStripped) {
  auto load = parse("[server]\npublic_url = https://Login.Example.com:443/\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  ASSERT_OK(load);
  EXPECT_EQ(load.config.server.public_url, "https://login.example.com");
}

TEST_F(ConfigTest, HttpPublicUrlIsAllowedAndGetsNoHostPrefix) {
  auto load = parse("[server]\npublic_url = http://127.0.0.1:8080\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  ASSERT_OK(load);
  EXPECT_TRUE(load.problems.empty()) << all_messages(load);
  EXPECT_FALSE(load.config.server.public_url_https);
  EXPECT_EQ(load.config.server.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(load.config.session.cookie_name, "oauth_session");
}

TEST_F(ConfigTest, HttpPublicUrlOnARealHostIsOnlyAWarning) {
  auto load = parse("[server]\npublic_url = http://dev.example.com\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  ASSERT_OK(load);
  ASSERT_EQ(load.problems.size(), 1u);
  EXPECT_TRUE(load.problems[0].warning);
  EXPECT_EQ(load.problems[0].to_string().rfind(file() + ":2: warning: public_url uses http://", 0), 0u)
      << load.problems[0].to_string();
}

TEST_F(ConfigTest, HostPrefixIsAddedOnceWhenHttps) {
  auto load = parse(minimal("[session]\ncookie_name = __Host-mine\n"));
  ASSERT_OK(load);
  EXPECT_EQ(load.config.session.cookie_name, "__Host-mine");
}

TEST_F(ConfigTest, HostPrefixedCookieOverHttpIsAnError) {
  auto load = parse("[server]\npublic_url = http://localhost:8080\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n"
                    "[session]\ncookie_name = __Host-s\n");
  EXPECT_ERROR(load, 9, "cookie_name \"__Host-s\" has a prefix browsers accept only over https");
}

TEST_F(ConfigTest, CookieNameMustBeAToken) {
  for (const char* bad : {"a b", "a;b", "a=b", "a,b", "\"q\"", "caf\xC3\xA9"}) {
    auto load = parse(minimal(std::string("[session]\ncookie_name = ") + bad + "\n"));
    EXPECT_ERROR(load, 10, "is not a cookie name");
  }
  auto empty = parse(minimal("[session]\ncookie_name =\n"));
  EXPECT_ERROR(empty, 10, "is not a cookie name");
}

TEST_F(ConfigTest, RoutePrefixAndLandingPathsAreChecked) {
  for (const char* bad : {"auth", "/auth/", "/", "", "/a?b", "/a#b", "//evil", "/a b"}) {
    auto load = parse(minimal(std::string("[server]\nroute_prefix = ") + bad + "\n"));
    EXPECT_ERROR(load, 10, "route_prefix");
  }
  for (const char* bad : {"https://evil.example/", "//evil.example", "/\\evil.example", "relative", ""}) {
    auto load =
        parse(minimal(std::string("[server]\nafter_login = ") + bad + "\nafter_logout = " + bad + "\n"));
    EXPECT_ERROR(load, 10, "after_login") << bad;
    EXPECT_ERROR(load, 11, "after_logout") << bad;
  }
  auto ok = parse(minimal("[server]\nroute_prefix = /sso/auth\n"));
  ASSERT_OK(ok);
  EXPECT_EQ(ok.config.server.route_prefix, "/sso/auth");
}

TEST_F(ConfigTest, ShortSecretReportsItsSizeAndHowToMakeOne) {
  dir.write("short", "only-twenty-bytes!!!\n");
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = short\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 3,
               "secret_file holds 20 bytes; at least 32 random bytes are needed (create one: head -c");
  EXPECT_ERROR(load, 3, "/dev/urandom > " + dir.file("short"));
}

TEST_F(ConfigTest, SecretFileDropsExactlyOneTrailingNewline) {
  dir.write("s1", std::string(32, 'k') + "\r\n");
  dir.write("s2", std::string(32, 'k') + "\n\n");
  dir.write("s3", std::string(32, 'k'));
  auto base = [](const char* f) {
    return "[server]\npublic_url = https://a.example\nsecret_file = " + std::string(f) +
           "\n[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n";
  };
  auto l1 = parse(base("s1")), l2 = parse(base("s2")), l3 = parse(base("s3"));
  ASSERT_OK(l1);
  ASSERT_OK(l2);
  ASSERT_OK(l3);
  EXPECT_EQ(l1.config.server.secret, std::string(32, 'k'));
  EXPECT_EQ(l2.config.server.secret, std::string(32, 'k') + "\n");
  EXPECT_EQ(l3.config.server.secret, std::string(32, 'k'));
}

TEST_F(ConfigTest, SecretFileWithAbsolutePathIsReadAsIs) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = " + dir.file("secret") +
                    "\n[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  ASSERT_OK(load);
  EXPECT_EQ(load.config.server.secret, kSecret);
}

TEST_F(ConfigTest, MissingSecretFileIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\n[provider g]\ntype = github\nclient_id = x\n"
                    "client_secret = y\n");
  EXPECT_ERROR(load, 1, "missing secret_file in [server]");
}

TEST_F(ConfigTest, UnreadableClientSecretFileNamesKeyAndPath) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret_file = nowhere.secret\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 7, "cannot read client_secret_file \"" + dir.file("nowhere.secret") + "\"");
  EXPECT_ERROR(load, 7, "No such file or directory");
}

TEST_F(ConfigTest, SecretFileThatIsAFolderIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = .\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  EXPECT_ERROR(load, 3, "cannot read secret_file");
}

// A secret someone else can change is a secret they choose: the key that seals
// sessions, or the client secret sent to the provider (issue 18 item 9).
TEST_F(ConfigTest, SecretFileOthersCanWriteIsRefused) {
  std::string world = dir.write("world.secret", std::string(40, 'w'));
  std::string group = dir.write("group.secret", "gs");
  ASSERT_EQ(chmod(world.c_str(), 0602), 0);
  ASSERT_EQ(chmod(group.c_str(), 0620), 0);
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = world.secret\n"
                    "[provider g]\ntype = github\nclient_id = x\nclient_secret_file = group.secret\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 3, "secret_file \"" + world + "\" may be written by other users");
  EXPECT_ERROR(load, 3, "chmod go-w " + world);
  EXPECT_ERROR(load, 7, "client_secret_file \"" + group + "\" may be written by other users");
  ASSERT_EQ(chmod(world.c_str(), 0640), 0);
  ASSERT_EQ(chmod(group.c_str(), 0600), 0);
  load = parse("[server]\npublic_url = https://a.example\nsecret_file = world.secret\n"
               "[provider g]\ntype = github\nclient_id = x\nclient_secret_file = group.secret\n");
  ASSERT_OK(load);
}

TEST_F(ConfigTest, InlineAndFileSecretIsAnError) {
  auto load = parse(minimal("client_secret = also-inline\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 9, "client_secret is given both inline and as client_secret_file in [provider github]");
}

TEST_F(ConfigTest, MissingClientSecretIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n[provider g]\ntype = "
                    "github\nclient_id = x\n");
  EXPECT_ERROR(load, 4, "missing client_secret in [provider g]");
}

TEST_F(ConfigTest, MissingClientIdIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider g]\ntype = github\nclient_secret = y\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 4, "missing client_id in [provider g]");
}

TEST_F(ConfigTest, HttpEndpointOnNonLoopbackHostIsAnError) {
  auto load = parse(minimal("token_url = http://github.example.com/token\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 9, "token_url must use https:// (http:// is allowed only on a loopback host)");
}

TEST_F(ConfigTest, HttpEndpointOnLoopbackHostIsAllowed) {
  auto load =
      parse(minimal("token_url = http://127.0.0.1:9000/token\nauthorize_url = http://localhost:9000/a\n"
                    "userinfo_url = http://[::1]:9000/user\n"));
  ASSERT_OK(load);
  EXPECT_EQ(load.config.providers[0].token_url, "http://127.0.0.1:9000/token");
}

TEST_F(ConfigTest, EndpointsMustBeAbsoluteUrls) {
  auto load =
      parse(minimal("userinfo_url = /user\nrevoke_url = ftp://a.example/r\nissuer = https://a.example/#x\n"));
  EXPECT_ERROR(load, 9, "userinfo_url is not an absolute https:// URL");
  EXPECT_ERROR(load, 10, "revoke_url is not an absolute https:// URL");
  EXPECT_ERROR(load, 11, "issuer is not an absolute https:// URL");
}

TEST_F(ConfigTest, Oauth2TypeNeedsItsThreeEndpoints) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider custom]\ntype = oauth2\nclient_id = x\nclient_secret = y\n"
                    "token_url = https://idp.example/token\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 4, "missing authorize_url in [provider custom]");
  EXPECT_ERROR(load, 4, "missing userinfo_url in [provider custom]");
  EXPECT_FALSE(has_error(load, 4, "missing token_url"));
}

TEST_F(ConfigTest, OidcTypeNeedsAnIssuer) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider sso]\ntype = oidc\nclient_id = x\nclient_secret = y\n");
  EXPECT_ERROR(load, 4, "missing issuer in [provider sso]");
}

TEST_F(ConfigTest, UnknownProviderTypeIsAnError) {
  auto load =
      parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
            "[provider x]\ntype = myspace\nclient_id = x\nclient_secret = y\nbase_url = https://a.example\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(
      load, 5,
      "type = \"myspace\" is not known (use one of: github, facebook, google, gitlab, oauth2, oidc)");
  // No follow-on errors that depend on a type we do not know.
  EXPECT_EQ(load.problems.size(), 1u) << all_messages(load);
}

TEST_F(ConfigTest, MissingProviderTypeIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider x]\nclient_id = x\nclient_secret = y\n");
  EXPECT_ERROR(load, 4, "missing type in [provider x]");
}

TEST_F(ConfigTest, TypeSpecificKeysOnAnotherTypeAreErrors) {
  auto load = parse(minimal("base_url = https://git.example.com\ngraph_version = v19.0\n"));
  EXPECT_ERROR(load, 9, "base_url applies only to type gitlab, not github");
  EXPECT_ERROR(load, 10, "graph_version applies only to type facebook, not github");
}

TEST_F(ConfigTest, GitlabGetsTheDefaultBaseUrl) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                    "[provider gl]\ntype = gitlab\nclient_id = x\nclient_secret = y\n");
  ASSERT_OK(load);
  EXPECT_EQ(load.config.providers[0].base_url, "https://gitlab.com");
}

TEST_F(ConfigTest, GraphVersionMustLookLikeAVersion) {
  for (const char* bad : {"19.0", "v19", "v.0", "v19.", "vx.0", "v19.0a"}) {
    auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                      "[provider fb]\ntype = facebook\nclient_id = x\nclient_secret = y\ngraph_version = " +
                      std::string(bad) + "\n");
    EXPECT_ERROR(load, 8, "graph_version") << bad;
  }
}

TEST_F(ConfigTest, ClientSectionChecksItsRequiredKeys) {
  auto load = parse(minimal("[client api]\ntoken_url = http://idp.example/token\n[client other]\n"));
  EXPECT_ERROR(load, 10, "token_url must use https://");
  EXPECT_ERROR(load, 9, "missing client_id in [client api]");
  EXPECT_ERROR(load, 9, "missing client_secret in [client api]");
  EXPECT_ERROR(load, 11, "missing token_url in [client other]");
}

TEST_F(ConfigTest, BadDefaultProviderIsAnError) {
  auto load = parse(minimal("[server]\ndefault_provider = gitlab\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 10,
               "default_provider \"gitlab\" names no [provider gitlab] section (use one of: github)");
}

TEST_F(ConfigTest, NoProviderIsAnError) {
  auto load = parse("[server]\npublic_url = https://a.example\nsecret_file = secret\n");
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 0, "no [provider NAME] section (add one, see oauth-fcgi.conf.example)");
}

TEST_F(ConfigTest, RedisUrlPasswordAndPasswordFileIsAnError) {
  auto load = parse(minimal("[redis]\nurl = redis://:inurl@127.0.0.1:6379/0\npassword_file = redis.pw\n"));
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 11, "password is given both in url and as password_file");
}

TEST_F(ConfigTest, RedisPasswordFileFillsThePassword) {
  auto load = parse(minimal("[redis]\nurl = redis://10.0.0.5\npassword_file = redis.pw\n"));
  ASSERT_OK(load);
  EXPECT_EQ(load.config.redis.password, "redis-file-pw");
  EXPECT_EQ(load.config.redis.host, "10.0.0.5");
  EXPECT_EQ(load.config.redis.port, 6379);
}

TEST_F(ConfigTest, RedisUrlFormsAreParsed) {
  struct Case {
    const char* url;
    bool unix_socket;
    const char* host;
    int port;
    int db;
    const char* username;
    const char* password;
  };
  for (const Case& c : {
           Case{"redis://127.0.0.1:6379/0", false, "127.0.0.1", 6379, 0, "", ""},
           Case{"redis://redis.example", false, "redis.example", 6379, 0, "", ""},
           Case{"redis://redis.example/", false, "redis.example", 6379, 0, "", ""},
           Case{"redis://redis.example:7000/12", false, "redis.example", 7000, 12, "", ""},
           Case{"redis://:s3cr%2Ft@h:1/2", false, "h", 1, 2, "", "s3cr/t"},
           Case{"redis://app:p%3Aw+d@h/1", false, "h", 6379, 1, "app", "p:w+d"},
           Case{"redis://[::1]:6380/4", false, "::1", 6380, 4, "", ""},
           Case{"REDIS://h", false, "h", 6379, 0, "", ""},
           Case{"unix:///run/redis/redis.sock", true, "/run/redis/redis.sock", 0, 0, "", ""},
           Case{"unix:///run/redis/redis.sock?db=5", true, "/run/redis/redis.sock", 0, 5, "", ""},
       }) {
    auto load = parse(minimal(std::string("[redis]\nurl = ") + c.url + "\n"));
    ASSERT_OK(load) << c.url;
    const RedisConfig& r = load.config.redis;
    EXPECT_EQ(r.url, c.url);
    EXPECT_EQ(r.unix_socket, c.unix_socket) << c.url;
    EXPECT_EQ(r.host, c.host) << c.url;
    if (!c.unix_socket) {
      EXPECT_EQ(r.port, c.port) << c.url;
    }
    EXPECT_EQ(r.db, c.db) << c.url;
    EXPECT_EQ(r.username, c.username) << c.url;
    EXPECT_EQ(r.password, c.password) << c.url;
  }
}

TEST_F(ConfigTest, BadRedisUrlsAreErrorsOnTheirLine) {
  for (const char* bad :
       {"rediss://h:6380", "http://h", "redis://", "redis://:pw@", "redis://h:0", "redis://h:65536",
        "redis://h:port", "redis://h/x", "redis://h/-1", "redis://h?db=1", "redis://user@h",
        "redis://::1:6379", "redis://[::1", "unix://relative.sock", "unix:///s.sock?db=x",
        "unix:///s.sock?password=pw", "unix:///s.sock?db=1&db=2", "redis://h:1/2/3", "redis://h:/0"}) {
    auto load = parse(minimal(std::string("[redis]\nurl = ") + bad + "\n"));
    EXPECT_FALSE(load.ok()) << bad;
    EXPECT_TRUE(has_error(load, 10, "[redis]")) << bad << "\n" << all_messages(load);
  }
}

TEST_F(ConfigTest, BadRedisUrlErrorsNeverRepeatThePassword) {
  for (const char* bad :
       {"rediss://:PWLEAK@h", "redis://:PWLEAK@h:0", "redis://:PWLEAK@h/x", "redis://:PWLEAK@",
        "http://:PWLEAK@h", "redis://u:PWLEAK@h?x", "unix:///s?password=PWLEAK"}) {
    auto load = parse(minimal(std::string("[redis]\nurl = ") + bad + "\n"));
    EXPECT_FALSE(load.ok()) << bad;
    EXPECT_EQ(all_messages(load).find("PWLEAK"), std::string::npos) << all_messages(load);
  }
}

TEST_F(ConfigTest, RedisKeyPrefixMustNotBeEmpty) {
  auto load = parse(minimal("[redis]\nkey_prefix =\n"));
  EXPECT_ERROR(load, 10, "key_prefix is empty");
}

TEST_F(ConfigTest, CaFileMustBeReadable) {
  auto load = parse(minimal("[http]\nca_file = missing.pem\n"));
  EXPECT_ERROR(load, 10, "cannot read ca_file \"" + dir.file("missing.pem") + "\"");
  auto folder = parse(minimal("[http]\nca_file = .\n"));
  EXPECT_ERROR(folder, 10, "cannot read ca_file");
}

TEST_F(ConfigTest, AccessListsAreCheckedAndLowerCased) {
  auto load = parse(minimal("[access]\nallowed_emails = not-an-email a@b.c\nallowed_domains = x@y.z\n"));
  EXPECT_ERROR(load, 10, "allowed_emails entry \"not-an-email\" is not an email address");
  EXPECT_ERROR(load, 11, "allowed_domains entry \"x@y.z\" is not a domain");
}

TEST_F(ConfigTest, MultipleProblemsAreReportedAtOnce) {
  auto load = parse("[server]\n"
                    "public_url = https://a.example/path\n" // 2
                    "secret_file = secret\n"
                    "threads = 0\n"     // 4
                    "bogus = 1\n"       // 5
                    "[nonsense]\n"      // 6
                    "[provider g]\n"    // 7
                    "type = oauth2\n"   // 8
                    "client_id = x\n"); // 9
  EXPECT_FALSE(load.ok());
  EXPECT_ERROR(load, 2, "public_url has a path");
  EXPECT_ERROR(load, 4, "threads = 0 is out of range");
  EXPECT_ERROR(load, 5, "unknown key \"bogus\"");
  EXPECT_ERROR(load, 6, "unknown section [nonsense]");
  EXPECT_ERROR(load, 7, "missing client_secret");
  EXPECT_ERROR(load, 7, "missing authorize_url");
  EXPECT_GE(load.problems.size(), 8u) << all_messages(load);
}

TEST_F(ConfigTest, NoSecretEverAppearsInMessages) {
  const std::string file_secret = "FILESECRETxyz";
  const std::string inline_secret = "INLINESECRETxyz";
  const std::string redis_pw = "REDISPWxyz";
  dir.write("short", file_secret + "\n");
  dir.write("client.secret", "CLIENTFILESECRETxyz\n");
  auto load =
      parse("[server]\npublic_url = https://a.example\nsecret_file = short\n"
            "[redis]\nurl = redis://:" +
            redis_pw + "@h:99999/0\npassword_file = redis.pw\n" + "[provider g]\ntype = github\n" +
            "client_secret = " + inline_secret + "\nclient_secret_file = client.secret\n" + "[client c]\n" +
            "client_secret = " + inline_secret + "\n" + inline_secret + "\n" // a pasted secret line
      );
  EXPECT_FALSE(load.ok());
  std::string all = all_messages(load);
  for (const std::string& s : {file_secret, inline_secret, redis_pw, std::string("CLIENTFILESECRETxyz"),
                               std::string("redis-file-pw"), std::string("gh-secret-value")}) {
    EXPECT_EQ(all.find(s), std::string::npos) << s << " leaked:\n" << all;
  }
  // And the secrets that did load are intact for the program.
  auto good = parse(minimal("[redis]\nurl = redis://:" + redis_pw + "@h/0\n"));
  ASSERT_OK(good);
  EXPECT_EQ(good.config.redis.password, redis_pw);
  EXPECT_EQ(good.config.providers[0].client_secret, "gh-secret-value");
}

// ---- problems, loading and the key list -----------------------------------------------

TEST(ConfigProblem, ToStringFormatsFileLineAndWarnings) {
  EXPECT_EQ((ConfigProblem{"a.conf", 3, "bad (fix)", false}).to_string(), "a.conf:3: bad (fix)");
  EXPECT_EQ((ConfigProblem{"a.conf", 0, "bad (fix)", false}).to_string(), "a.conf: bad (fix)");
  EXPECT_EQ((ConfigProblem{"a.conf", 7, "meh (fix)", true}).to_string(), "a.conf:7: warning: meh (fix)");
}

TEST(ConfigLoadOk, WarningsDoNotMakeALoadFail) {
  ConfigLoad load;
  EXPECT_TRUE(load.ok());
  load.problems.push_back(ConfigProblem{"f", 1, "w", true});
  EXPECT_TRUE(load.ok());
  load.problems.push_back(ConfigProblem{"f", 2, "e", false});
  EXPECT_FALSE(load.ok());
}

TEST(LoadConfig, ReadsTheFileAndResolvesRelativePathsAgainstItsFolder) {
  testutil::TempDir dir;
  dir.write("secret", std::string(48, 'z'));
  std::string path =
      dir.write("oauth.conf", "[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                              "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  auto load = load_config(path);
  ASSERT_TRUE(load.ok()) << (load.problems.empty() ? "" : load.problems[0].to_string());
  EXPECT_EQ(load.config.path, path);
  EXPECT_EQ(load.config.server.secret, std::string(48, 'z'));
}

// Every user of the machine can read a 0644 config: an inline secret in it is theirs.
TEST(LoadConfig, InlineSecretInAConfigOthersCanReadIsWarned) {
  testutil::TempDir dir;
  dir.write("secret", std::string(48, 'z'));
  auto warned = [](const ConfigLoad& load, int line) {
    return std::any_of(load.problems.begin(), load.problems.end(), [&](const ConfigProblem& p) {
      return p.warning && p.line == line && p.message.find("readable by every user") != std::string::npos &&
             p.message.find("chmod o-r") != std::string::npos;
    });
  };
  std::string inline_secret =
      dir.write("inline.conf", "[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                               "[provider g]\ntype = github\nclient_id = x\nclient_secret = y\n");
  std::string redis_password =
      dir.write("redis.conf", "[server]\npublic_url = https://a.example\nsecret_file = secret\n"
                              "[redis]\nurl = redis://:pw@127.0.0.1:6379/0\n"
                              "[client c]\ntoken_url = https://a.example/t\nclient_id = x\n"
                              "client_secret_file = secret\n");
  ASSERT_EQ(chmod(inline_secret.c_str(), 0644), 0);
  ASSERT_EQ(chmod(redis_password.c_str(), 0604), 0);
  auto load = load_config(inline_secret);
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(warned(load, 7)) << (load.problems.empty() ? "no problem" : load.problems[0].to_string());
  for (const auto& p : load.problems)
    EXPECT_EQ(p.to_string().find("= y"), std::string::npos) << "never the secret itself";
  load = load_config(redis_password);
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(warned(load, 5));
  ASSERT_EQ(chmod(inline_secret.c_str(), 0640), 0);
  load = load_config(inline_secret);
  EXPECT_TRUE(load.problems.empty()) << (load.problems.empty() ? "" : load.problems[0].to_string());
}

TEST(LoadConfig, UnreadableFileIsASingleProblemWithoutLine) {
  testutil::TempDir dir;
  auto load = load_config(dir.file("missing.conf"));
  EXPECT_FALSE(load.ok());
  ASSERT_EQ(load.problems.size(), 1u);
  EXPECT_EQ(load.problems[0].line, 0);
  EXPECT_EQ(load.problems[0].to_string().rfind(dir.file("missing.conf") + ": cannot read the config file", 0),
            0u)
      << load.problems[0].to_string();
}

TEST(DefaultConfigPath, UsesTheEnvironmentElseEtc) {
  const char* saved = getenv("OAUTH_FCGI_CONFIG");
  std::string saved_value = saved ? saved : "";
  setenv("OAUTH_FCGI_CONFIG", "/tmp/x.conf", 1);
  EXPECT_EQ(default_config_path(), "/tmp/x.conf");
  setenv("OAUTH_FCGI_CONFIG", "", 1);
  EXPECT_EQ(default_config_path(), "/etc/oauth-fcgi/oauth-fcgi.conf");
  unsetenv("OAUTH_FCGI_CONFIG");
  EXPECT_EQ(default_config_path(), "/etc/oauth-fcgi/oauth-fcgi.conf");
  if (saved) setenv("OAUTH_FCGI_CONFIG", saved_value.c_str(), 1);
}

TEST(KnownConfigKeys, ListsEveryDocumentedKeyOnce) {
  const auto& keys = known_config_keys();
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size());
  const std::set<std::string> documented = {"server.public_url",
                                            "server.route_prefix",
                                            "server.after_login",
                                            "server.after_logout",
                                            "server.secret_file",
                                            "server.default_provider",
                                            "server.log_level",
                                            "server.log_format",
                                            "server.threads",
                                            "server.max_threads",
                                            "redis.url",
                                            "redis.password_file",
                                            "redis.key_prefix",
                                            "redis.timeout_ms",
                                            "session.cookie_name",
                                            "session.ttl",
                                            "session.idle_timeout",
                                            "http.connect_timeout_ms",
                                            "http.timeout_ms",
                                            "http.max_response_bytes",
                                            "http.ca_file",
                                            "limits.max_query_bytes",
                                            "limits.max_cookie_bytes",
                                            "limits.max_header_bytes",
                                            "limits.max_body_bytes",
                                            "access.allowed_emails",
                                            "access.allowed_domains",
                                            "access.allowed_users",
                                            "access.github_orgs",
                                            "provider.type",
                                            "provider.client_id",
                                            "provider.client_secret",
                                            "provider.client_secret_file",
                                            "provider.scope",
                                            "provider.authorize_url",
                                            "provider.token_url",
                                            "provider.userinfo_url",
                                            "provider.emails_url",
                                            "provider.revoke_url",
                                            "provider.debug_token_url",
                                            "provider.issuer",
                                            "provider.base_url",
                                            "provider.graph_version",
                                            "provider.offline_access",
                                            "provider.trust_email",
                                            "provider.api_url",
                                            "provider.api_allow",
                                            "provider.pass_access_token",
                                            "provider.pkce",
                                            "provider.allowed_emails",
                                            "provider.allowed_domains",
                                            "provider.allowed_users",
                                            "provider.github_orgs",
                                            "client.token_url",
                                            "client.client_id",
                                            "client.client_secret",
                                            "client.client_secret_file",
                                            "client.scope",
                                            "client.auth_method",
                                            "client.cache",
                                            "client.allow_urls"};
  EXPECT_EQ(unique, documented);
}

TEST(ProviderTypeName, NamesEveryType) {
  EXPECT_STREQ(provider_type_name(ProviderType::github), "github");
  EXPECT_STREQ(provider_type_name(ProviderType::facebook), "facebook");
  EXPECT_STREQ(provider_type_name(ProviderType::google), "google");
  EXPECT_STREQ(provider_type_name(ProviderType::gitlab), "gitlab");
  EXPECT_STREQ(provider_type_name(ProviderType::oauth2), "oauth2");
  EXPECT_STREQ(provider_type_name(ProviderType::oidc), "oidc");
}
