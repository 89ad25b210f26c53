// RAII over cJSON, and the few typed reads the project needs. Provider answers are
// untrusted: every accessor checks the node's type.
#pragma once

#include <cjson/cJSON.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "c_handle.hpp"
#include "error.hpp"

namespace oauthfcgi {

using Json = CHandle<cJSON, cJSON_Delete>;

// Parses a whole document; trailing garbage is an error, and so is a member named twice
// in one object, at any depth: parsers disagree on which of the two counts (cJSON reads
// the first, Go and jansson the last), so a document two programs read must have one
// meaning. The reason never quotes the input, but for such a member's name.
Result<Json> json_parse(std::string_view text);
// Parses the first value of `text` and leaves what follows it (whitespace skipped) in
// *rest, unparsed: for records made of several documents, one after the other.
Result<Json> json_parse_first(std::string_view text, std::string_view* rest);
// Parses and requires an object at the top.
Result<Json> json_parse_object(std::string_view text);
// A refusal of json_parse worded to follow "answered": "something that is not JSON", or
// "JSON naming the member "sub" twice".
std::string json_refusal(const Error& parse_error);
// The name of a member found twice in one object of the document (at any depth), or nullopt.
std::optional<std::string> json_duplicate_member(const cJSON* node);

// A string member, or nullopt when absent, null or not a string.
std::optional<std::string> json_string(const cJSON* object, const char* key);
// A string, or an integral number rendered without a fraction (GitHub ids are numbers).
std::optional<std::string> json_id(const cJSON* object, const char* key);
std::optional<bool> json_bool(const cJSON* object, const char* key);
// A yes/no a provider states, as they send it: true or "true" -> true, false or "false"
// -> false (Cognito and Apple send email_verified as a string); absent or anything else
// -> nullopt: not said.
std::optional<bool> json_flag(const cJSON* object, const char* key);
std::optional<double> json_number(const cJSON* object, const char* key);
// An integral number that fits a long exactly (|n| <= 2^53); nullopt for anything else
// (1e300, 2.5, NaN): casting those would be undefined behaviour.
std::optional<long> json_integer(const cJSON* object, const char* key);

Json json_object();
void json_set_string(cJSON* object, const char* key, std::string_view value);
// Sets value, or JSON null when nullopt.
void json_set_optional(cJSON* object, const char* key, const std::optional<std::string>& value);
void json_set_number(cJSON* object, const char* key, double value);
// Compact text of a node.
std::string json_print(const cJSON* node);

} // namespace oauthfcgi
