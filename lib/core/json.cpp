// Reading and writing JSON through cJSON; every typed read checks the node's type (json.hpp).
#include "json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "text.hpp"

namespace oauthfcgi {
namespace {

const char* const kInvalidJson = "invalid JSON";

} // namespace

std::optional<std::string> json_duplicate_member(const cJSON* node) {
  if (!node) return std::nullopt;
  if (cJSON_IsObject(node) && node->child && node->child->next) {
    // Sorted, so a provider's object of many members costs n log n, not n².
    std::vector<std::string_view> names;
    for (const cJSON* c = node->child; c; c = c->next)
      if (c->string) names.emplace_back(c->string);
    std::sort(names.begin(), names.end());
    if (auto twice = std::adjacent_find(names.begin(), names.end()); twice != names.end())
      return std::string(*twice);
  }
  // Only objects and arrays have children; cJSON's nesting limit bounds the depth.
  for (const cJSON* c = node->child; c; c = c->next)
    if (auto inner = json_duplicate_member(c)) return inner;
  return std::nullopt;
}

std::string json_refusal(const Error& parse_error) {
  return parse_error.reason == kInvalidJson ? "something that is not JSON" : parse_error.reason;
}

Result<Json> json_parse_first(std::string_view text, std::string_view* rest) {
  const char* end = nullptr;
  Json root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, false));
  if (!root) return make_error(ErrorKind::provider_error, kInvalidJson);
  if (auto twice = json_duplicate_member(root.get()))
    return make_error(ErrorKind::provider_error,
                      "JSON naming the member \"" + printable_excerpt(*twice, 40) + "\" twice");
  size_t used = end ? static_cast<size_t>(end - text.data()) : text.size();
  std::string_view after = text.substr(std::min(used, text.size()));
  size_t next = after.find_first_not_of(" \n\r\t");
  *rest = next == std::string_view::npos ? std::string_view() : after.substr(next);
  return root;
}

Result<Json> json_parse(std::string_view text) {
  std::string_view rest;
  auto root = json_parse_first(text, &rest);
  if (!root.ok()) return root;
  // cJSON stops after the first value: anything but whitespace after it is garbage.
  if (!rest.empty()) return make_error(ErrorKind::provider_error, kInvalidJson);
  return root;
}

Result<Json> json_parse_object(std::string_view text) {
  auto root = json_parse(text);
  if (!root.ok()) return root;
  if (!cJSON_IsObject(root->get())) return make_error(ErrorKind::provider_error, "JSON is not an object");
  return root;
}

std::optional<std::string> json_string(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!cJSON_IsString(item) || item->valuestring == nullptr) return std::nullopt;
  return std::string(item->valuestring);
}

std::optional<std::string> json_id(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (cJSON_IsString(item) && item->valuestring) return std::string(item->valuestring);
  if (cJSON_IsNumber(item)) {
    double v = item->valuedouble;
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9007199254740992.0) return std::nullopt;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return std::string(buf);
  }
  return std::nullopt;
}

std::optional<bool> json_bool(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!cJSON_IsBool(item)) return std::nullopt;
  return cJSON_IsTrue(item) != 0;
}

std::optional<bool> json_flag(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (cJSON_IsBool(item)) return cJSON_IsTrue(item) != 0;
  if (!cJSON_IsString(item) || !item->valuestring) return std::nullopt;
  std::string_view said = item->valuestring;
  if (said == "true") return true;
  if (said == "false") return false;
  return std::nullopt;
}

std::optional<double> json_number(const cJSON* object, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (!cJSON_IsNumber(item)) return std::nullopt;
  return item->valuedouble;
}

std::optional<long> json_integer(const cJSON* object, const char* key) {
  auto v = json_number(object, key);
  if (!v || !std::isfinite(*v) || *v != std::floor(*v) || std::fabs(*v) > 9007199254740992.0)
    return std::nullopt;
  return static_cast<long>(*v);
}

Json json_object() {
  return Json(cJSON_CreateObject());
}

void json_set_string(cJSON* object, const char* key, std::string_view value) {
  cJSON_AddItemToObject(object, key, cJSON_CreateString(std::string(value).c_str()));
}

void json_set_optional(cJSON* object, const char* key, const std::optional<std::string>& value) {
  if (value)
    json_set_string(object, key, *value);
  else
    cJSON_AddItemToObject(object, key, cJSON_CreateNull());
}

void json_set_number(cJSON* object, const char* key, double value) {
  cJSON_AddItemToObject(object, key, cJSON_CreateNumber(value));
}

std::string json_print(const cJSON* node) {
  char* text = cJSON_PrintUnformatted(node);
  if (!text) return "null";
  std::string out(text);
  cJSON_free(text);
  return out;
}

} // namespace oauthfcgi
