// The INI reader of the config: lines, comments, [section] headers and
// "key = value" pairs, handed to the key table; unknown and repeated sections and
// keys are reported here, with "did you mean" for misspelt keys.
#include <algorithm>

#include "config_reader.hpp"
#include "text.hpp"

namespace oauthfcgi::config_detail {

namespace {

constexpr Sec kAllSections[] = {Sec::server, Sec::redis,  Sec::access,   Sec::session,
                                Sec::http,   Sec::limits, Sec::provider, Sec::client};

// Levenshtein distance, for "did you mean" on misspelt keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string known_keys_of(Sec sec) {
  std::string out;
  for (const KeyDesc& d : key_table()) {
    if (d.sec == sec) out += (out.empty() ? "" : ", ") + std::string(d.key);
  }
  return out;
}

// "did you mean "KEY"? " for the closest known key of the section, or "".
std::string did_you_mean(Sec sec, std::string_view key) {
  std::string hint;
  size_t best = 3;
  for (const KeyDesc& k : key_table()) {
    if (k.sec != sec) continue;
    size_t dist = edit_distance(key, k.key);
    if (dist < best) {
      best = dist;
      hint = std::string("did you mean \"") + k.key + "\"? ";
    }
  }
  return hint;
}

std::string known_sections() {
  std::string out;
  for (Sec s : kAllSections) {
    out += (out.empty() ? "[" : ", [") + std::string(sec_name(s));
    out += (s == Sec::provider || s == Sec::client) ? " NAME]" : "]";
  }
  return out;
}

bool valid_section_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!is_ascii_alnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

} // namespace

const char* sec_name(Sec s) {
  switch (s) {
  case Sec::server: return "server";
  case Sec::redis: return "redis";
  case Sec::session: return "session";
  case Sec::http: return "http";
  case Sec::limits: return "limits";
  case Sec::access: return "access";
  case Sec::provider: return "provider";
  case Sec::client: return "client";
  }
  return "?";
}

std::string Section::label() const {
  return name.empty() ? "[" + std::string(sec_name(sec)) + "]"
                      : "[" + std::string(sec_name(sec)) + " " + name + "]";
}

Section* ConfigReader::find_plain(Sec sec) {
  for (Section& s : sections_) {
    if (s.sec == sec && s.name.empty()) return &s;
  }
  return nullptr;
}

// Returns the section keys now go to, or nullptr when they are to be skipped
// (after a header that was already reported as wrong).
Section* ConfigReader::open_section(std::string_view inner, int line) {
  std::vector<std::string> words = split_words(inner, false);
  if (words.empty()) {
    error(line, "empty section header [] (use one of: " + known_sections() + ")");
    return nullptr;
  }
  const std::string& kind = words[0];
  std::optional<Sec> sec;
  for (Sec s : kAllSections) {
    if (kind == sec_name(s)) sec = s;
  }
  if (!sec) {
    error(line, "unknown section [" + std::string(ascii_trim(inner)) +
                    "] (known sections: " + known_sections() + ")");
    return nullptr;
  }
  if (*sec == Sec::provider || *sec == Sec::client) return open_named_section(*sec, kind, inner, line);
  if (words.size() > 1) {
    error(line, "[" + kind + "] takes no name (write [" + kind + "])");
    return nullptr;
  }
  if (Section* existing = find_plain(*sec)) return existing; // repeated sections merge
  sections_.push_back(Section{*sec, {}, line, 0, {}, false});
  return &sections_.back();
}

// [provider NAME] or [client NAME]: a new entry in Config::providers / clients.
Section* ConfigReader::open_named_section(Sec sec, const std::string& kind, std::string_view inner,
                                          int line) {
  std::vector<std::string> words = split_words(inner, false);
  if (words.size() < 2) {
    error(line, "[" + kind + "] needs a name (write [" + kind + " NAME], e.g. [" + kind + " github])");
    return nullptr;
  }
  std::string name = std::string(ascii_trim(ascii_trim(inner).substr(kind.size())));
  if (words.size() > 2 || !valid_section_name(name)) {
    error(line, kind + " name \"" + name +
                    "\" may hold only letters, digits, '_' and '-' (it appears in URLs; e.g. [" + kind +
                    " github])");
    return nullptr;
  }
  for (const Section& s : sections_) {
    if (s.sec == sec && s.name == name) {
      error(line, "duplicate [" + kind + " " + name + "] (first on line " + std::to_string(s.line) +
                      "; merge them or rename one)");
      return nullptr;
    }
  }
  Section s{sec, name, line, 0, {}, false};
  if (sec == Sec::provider) {
    s.index = cfg().providers.size();
    ProviderConfig pc;
    pc.name = name;
    pc.line = line;
    cfg().providers.push_back(std::move(pc));
  } else {
    s.index = cfg().clients.size();
    ClientConfig cc;
    cc.name = name;
    cc.line = line;
    cfg().clients.push_back(std::move(cc));
  }
  sections_.push_back(std::move(s));
  return &sections_.back();
}

void ConfigReader::set_key(Section& s, std::string_view key, std::string_view value, int line) {
  const KeyDesc* d = find_key(s.sec, key);
  if (!d) {
    return error(line, "unknown key \"" + std::string(key) + "\" in " + s.label() + " (" +
                           did_you_mean(s.sec, key) + "known keys: " + known_keys_of(s.sec) + ")");
  }
  if (int first = s.line_of(key)) {
    return error(line, "duplicate key \"" + std::string(key) + "\" in " + s.label() +
                           " (already set on line " + std::to_string(first) + "; keep one)");
  }
  s.keys.emplace(std::string(key), line);
  d->apply(*this, s, Value{key, value, line});
}

void ConfigReader::parse(std::string_view text) {
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3); // a BOM from some editors
  // sections_ holds the Sections; keep an index, not a pointer, across push_backs.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t current = kNone;
  bool skipping = false; // inside a section already reported as wrong
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::string_view line = ascii_trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      if (line.back() != ']') {
        error(line_no, "malformed section header (write it alone on its line, like [server])");
        current = kNone;
        skipping = true;
        continue;
      }
      Section* s = open_section(line.substr(1, line.size() - 2), line_no);
      skipping = s == nullptr;
      current = s ? static_cast<size_t>(s - sections_.data()) : kNone;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      // The line is not repeated: it might be a pasted secret.
      error(line_no, "expected \"key = value\" or \"[section]\" (a comment starts with ; or #)");
      continue;
    }
    std::string_view key = ascii_trim(line.substr(0, eq));
    std::string_view value = ascii_trim(line.substr(eq + 1));
    if (key.empty()) {
      error(line_no, "missing key before '=' (write key = value)");
      continue;
    }
    if (skipping) continue;
    if (current == kNone) {
      error(line_no, "key \"" + std::string(key) +
                         "\" is outside any section (put it under one of: " + known_sections() + ")");
      continue;
    }
    set_key(sections_[current], key, value, line_no);
  }
}

} // namespace oauthfcgi::config_detail
