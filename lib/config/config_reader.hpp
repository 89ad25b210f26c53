// Shared by the config_*.cpp files only (others use config_load.hpp): the state
// of one parse (ConfigReader), the sections met, the key table's row type, and the
// value and secret-file readers the table's validators are built from.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config_load.hpp"

namespace oauthfcgi::config_detail {

enum class Sec { server, redis, session, http, limits, access, provider, client };
const char* sec_name(Sec s);

// One [section] (repeated plain sections merge into one).
struct Section {
  Sec sec = Sec::server;
  std::string name;                             // provider/client name
  int line = 0;                                 // first header line
  size_t index = 0;                             // into Config::providers / clients
  std::map<std::string, int, std::less<>> keys; // key -> line where it was set
  bool type_ok = false;                         // provider: a valid type was given
  int line_of(std::string_view key) const {
    auto it = keys.find(key);
    return it == keys.end() ? 0 : it->second;
  }
  bool has(std::string_view key) const { return keys.count(key) != 0; }
  std::string label() const;
};

// One "key = value" line as a validator receives it.
struct Value {
  std::string_view key;
  std::string_view text;
  int line = 0;
};

class ConfigReader;
// Checks one value and stores it in the Config, or reports what is wrong with it.
using Apply = void (*)(ConfigReader&, Section&, const Value&);

struct KeyDesc {
  Sec sec;
  const char* key;
  Apply apply;
};

// Every key the parser knows, in the order messages list them (config_keys.cpp).
const std::vector<KeyDesc>& key_table();
const KeyDesc* find_key(Sec sec, std::string_view key);

// One parse: the problems found so far and the Config being filled.
class ConfigReader {
public:
  ConfigReader(ConfigLoad& out, std::string file, std::string base_dir);

  Config& cfg() { return out_.config; }
  ProviderConfig& provider(const Section& s) { return out_.config.providers[s.index]; }
  ClientConfig& client(const Section& s) { return out_.config.clients[s.index]; }

  void error(int line, std::string message);
  void warn(int line, std::string message);
  // A path from the config; a relative one is taken from the config file's folder.
  std::string resolve(std::string_view path) const;

  void parse(std::string_view text); // the INI reader, config_ini.cpp
  void finish();                     // the cross-key checks, config_checks.cpp

  // [redis] password_file, held until finish() knows whether url had a password too.
  std::optional<std::string> redis_password_file;
  bool redis_url_has_password = false;
  // The first line holding a secret inline (client_secret, a password in url), and
  // whether users other than the owner and group may read the file (load_config).
  int inline_secret_line = 0;
  bool others_may_read_file = false;

private:
  Section* open_section(std::string_view inner, int line);
  Section* open_named_section(Sec sec, const std::string& kind, std::string_view inner, int line);
  void set_key(Section& s, std::string_view key, std::string_view value, int line);
  Section* find_plain(Sec sec);
  void check_server();
  void check_redis();
  void check_session();
  void check_provider(Section& s);
  void check_provider_type(Section& s);
  void check_client(Section& s);
  void check_client_secret(const Section& s, const std::string& where);
  void check_access_users();
  void check_inline_secrets();

  ConfigLoad& out_;
  std::string file_;
  std::string base_dir_;
  std::vector<Section> sections_;
};

// ---- value readers (config_values.cpp): each reports what is wrong, naming the key --

// Words separated by whitespace (and commas when commas_too).
std::vector<std::string> split_words(std::string_view v, bool commas_too);
std::optional<long> read_integer(ConfigReader& p, const Value& v, long min, long max);
std::optional<bool> read_bool(ConfigReader& p, const Value& v);
// Endpoint URLs: absolute, https://, or http:// on a loopback host only.
bool check_endpoint(ConfigReader& p, const Value& v);
// Local landing paths: "/x", never "//host" or "/\host".
bool check_local_path(ConfigReader& p, const Value& v);
// allowed_emails / allowed_domains lower-cased; every entry kept, bad ones reported.
std::vector<std::string> read_access_list(ConfigReader& p, const Value& v);
// "KEY = "V" is not known (use one of: a, b)".
void report_unknown_choice(ConfigReader& p, const Value& v, const std::string& known);

// Validators of single keys whose rules are their own (config_values.cpp).
void public_url(ConfigReader& p, Section& s, const Value& v);
void route_prefix(ConfigReader& p, Section& s, const Value& v);
void redis_url(ConfigReader& p, Section& s, const Value& v);
void key_prefix(ConfigReader& p, Section& s, const Value& v);
void cookie_name(ConfigReader& p, Section& s, const Value& v);
void provider_client_id(ConfigReader& p, Section& s, const Value& v);
void client_client_id(ConfigReader& p, Section& s, const Value& v);
void provider_scope(ConfigReader& p, Section& s, const Value& v);
void base_url(ConfigReader& p, Section& s, const Value& v);
void graph_version(ConfigReader& p, Section& s, const Value& v);
// allowed_users, in [access] and [provider NAME]: each entry parsed once (parse_user_ref).
void allowed_users(ConfigReader& p, Section& s, const Value& v);
void allow_urls(ConfigReader& p, Section& s, const Value& v);
void api_url(ConfigReader& p, Section& s, const Value& v);
void api_allow(ConfigReader& p, Section& s, const Value& v);

// ---- files the config points at (config_secrets.cpp) -------------------------------

// Whole file, at most `cap` bytes; on failure `error` holds a strerror-style reason.
struct FileRead {
  bool ok = false;
  bool too_large = false;
  std::string content;
  std::string error;
};
FileRead read_whole_file(const std::string& path, size_t cap);

void secret_file(ConfigReader& p, Section& s, const Value& v);
void password_file(ConfigReader& p, Section& s, const Value& v);
// client_secret and client_secret_file, the same in [provider NAME] and [client NAME].
void client_secret(ConfigReader& p, Section& s, const Value& v);
void client_secret_file(ConfigReader& p, Section& s, const Value& v);
void ca_file(ConfigReader& p, Section& s, const Value& v);

} // namespace oauthfcgi::config_detail
