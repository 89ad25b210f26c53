// Files the config points at: the *_file secrets (read whole, one trailing
// newline dropped, a warning when every user may read them, an error when another
// user may write them), client_secret given inline, and ca_file. Messages name the
// key and the path, never the content.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <sys/stat.h>

#include "c_handle.hpp"
#include "config_reader.hpp"

namespace oauthfcgi::config_detail {

namespace {

// A secret is small; a larger file is the wrong file.
constexpr size_t kMaxSecretBytes = 64 * 1024;

using FilePtr = CHandle<FILE, fclose>;

struct SecretFile {
  std::string path; // resolved
  std::string content;
};

std::optional<SecretFile> read_secret_file(ConfigReader& p, const Value& v) {
  std::string key(v.key);
  if (v.text.empty()) {
    p.error(v.line, key + " is empty (give the path of a file holding the secret)");
    return std::nullopt;
  }
  std::string path = p.resolve(v.text);
  FileRead r = read_whole_file(path, kMaxSecretBytes);
  if (r.too_large) {
    p.error(v.line, key + " \"" + path + "\" is larger than " + std::to_string(kMaxSecretBytes) +
                        " bytes (it should hold only the secret)");
    return std::nullopt;
  }
  if (!r.ok) {
    p.error(v.line, "cannot read " + key + " \"" + path + "\": " + r.error +
                        " (check the path and that this user may read the file)");
    return std::nullopt;
  }
  struct stat st;
  bool stat_ok = ::stat(path.c_str(), &st) == 0;
  // Whoever may write the file chooses the secret: the key that seals sessions, or
  // the client secret. The group too: a secret's group is for reading it.
  if (stat_ok && (st.st_mode & (S_IWGRP | S_IWOTH))) {
    p.error(v.line, key + " \"" + path + "\" may be written by other users (chmod go-w " + path +
                        "; only its owner should be able to change a secret)");
    return std::nullopt;
  }
  // head -c 64 /dev/urandom > secret under the usual umask gives mode 0644.
  if (stat_ok && (st.st_mode & S_IROTH)) {
    p.warn(v.line, key + " \"" + path +
                       "\" is readable by every user of this machine (chmod 0640 it, owned by root and the "
                       "group the programs run as, e.g. chown root:oauth-fcgi)");
  }
  // Editors and `echo` add one newline; drop exactly one.
  std::string& s = r.content;
  if (s.size() >= 2 && s.compare(s.size() - 2, 2, "\r\n") == 0) {
    s.resize(s.size() - 2);
  } else if (!s.empty() && s.back() == '\n') {
    s.pop_back();
  }
  return SecretFile{std::move(path), std::move(s)};
}

std::string& client_secret_of(ConfigReader& p, const Section& s) {
  return s.sec == Sec::provider ? p.provider(s).client_secret : p.client(s).client_secret;
}

} // namespace

FileRead read_whole_file(const std::string& path, size_t cap) {
  FileRead r;
  FilePtr f(fopen(path.c_str(), "rb"));
  if (!f) {
    r.error = strerror(errno);
    return r;
  }
  char buf[8192];
  while (true) {
    size_t n = fread(buf, 1, sizeof buf, f.get());
    r.content.append(buf, n);
    if (r.content.size() > cap) {
      r.too_large = true;
      r.content.clear();
      return r;
    }
    if (n < sizeof buf) break;
  }
  if (ferror(f.get())) {
    r.error = strerror(errno); // e.g. EISDIR for a folder
    r.content.clear();
    return r;
  }
  r.ok = true;
  return r;
}

std::string ConfigReader::resolve(std::string_view path) const {
  if (path.empty() || path[0] == '/' || base_dir_.empty()) return std::string(path);
  return base_dir_ + (base_dir_.back() == '/' ? "" : "/") + std::string(path);
}

void secret_file(ConfigReader& p, Section&, const Value& v) {
  auto secret = read_secret_file(p, v);
  if (!secret) return;
  if (secret->content.size() < 32) {
    // 64 in the hint: dropping a trailing newline byte must still leave >= 32.
    return p.error(v.line, "secret_file holds " + std::to_string(secret->content.size()) +
                               " bytes; at least 32 random bytes are needed (create one: head -c 64 "
                               "/dev/urandom > " +
                               secret->path + ")");
  }
  p.cfg().server.secret = std::move(secret->content);
}

void password_file(ConfigReader& p, Section&, const Value& v) {
  auto secret = read_secret_file(p, v);
  if (secret && secret->content.empty()) {
    return p.error(v.line, "password_file \"" + secret->path + "\" is empty (put the password in it)");
  }
  if (secret) p.redis_password_file = std::move(secret->content);
}

void client_secret(ConfigReader& p, Section& s, const Value& v) {
  if (v.text.empty()) return p.error(v.line, "client_secret is empty (or use client_secret_file = PATH)");
  if (!p.inline_secret_line) p.inline_secret_line = v.line;
  client_secret_of(p, s) = std::string(v.text);
}

void client_secret_file(ConfigReader& p, Section& s, const Value& v) {
  auto secret = read_secret_file(p, v);
  if (secret && secret->content.empty()) {
    return p.error(v.line, "client_secret_file \"" + secret->path + "\" is empty (put the secret in it)");
  }
  if (secret) client_secret_of(p, s) = std::move(secret->content);
}

void ca_file(ConfigReader& p, Section&, const Value& v) {
  if (v.text.empty()) return; // the system bundle
  std::string path = p.resolve(v.text);
  // Opened and one byte read: a missing file or a folder fails here, not at the first login.
  FilePtr f(fopen(path.c_str(), "rb"));
  if (!f || (fgetc(f.get()) == EOF && ferror(f.get()))) {
    return p.error(v.line, "cannot read ca_file \"" + path + "\": " + strerror(errno) +
                               " (give a readable PEM bundle, or remove the key to use the system one)");
  }
  p.cfg().http.ca_file = path;
}

} // namespace oauthfcgi::config_detail
