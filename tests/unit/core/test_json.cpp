// The cJSON wrapper (json.cpp): whole-document and first-value parsing, and typed
// reads that refuse a node of the wrong type instead of guessing.
#include "json.hpp"

#include <gtest/gtest.h>

using namespace oauthfcgi;

TEST(JsonParse, AWholeDocumentParsesAndTrailingGarbageIsRefused) {
  auto ok = json_parse(R"( {"a":1} )");
  ASSERT_TRUE(ok.ok()) << ok.error().reason;
  EXPECT_EQ(json_integer(ok->get(), "a"), 1);

  auto trailing = json_parse(R"({"a":1} x)");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(trailing.error().reason, "invalid JSON");
  EXPECT_FALSE(json_parse("").ok());
  EXPECT_FALSE(json_parse("{").ok());
}

TEST(JsonParse, TheReasonNeverQuotesTheInput) {
  auto bad = json_parse(R"({"access_token":"gho_secret")");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason.find("gho_secret"), std::string::npos) << bad.error().reason;
}

TEST(JsonParse, FirstValueLeavesTheRestUnparsed) {
  std::string_view rest;
  auto first = json_parse_first(R"({"n":1}  {"n":2} tail)", &rest);
  ASSERT_TRUE(first.ok()) << first.error().reason;
  EXPECT_EQ(json_integer(first->get(), "n"), 1);
  EXPECT_EQ(rest, R"({"n":2} tail)");
  auto second = json_parse_first(rest, &rest);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(json_integer(second->get(), "n"), 2);
  EXPECT_EQ(rest, "tail");
  EXPECT_FALSE(json_parse_first(rest, &rest).ok());
}

TEST(JsonParse, ObjectRequiresAnObjectAtTheTop) {
  EXPECT_TRUE(json_parse_object("{}").ok());
  auto array = json_parse_object("[1,2]");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().reason, "JSON is not an object");
  EXPECT_FALSE(json_parse_object(R"("text")").ok());
}

TEST(JsonRead, StringIsNulloptWhenAbsentNullOrAnotherType) {
  auto o = json_parse(R"({"s":"v","n":null,"i":3,"b":true,"o":{}})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(json_string(o->get(), "s"), "v");
  EXPECT_EQ(json_string(o->get(), "n"), std::nullopt);
  EXPECT_EQ(json_string(o->get(), "i"), std::nullopt);
  EXPECT_EQ(json_string(o->get(), "b"), std::nullopt);
  EXPECT_EQ(json_string(o->get(), "o"), std::nullopt);
  EXPECT_EQ(json_string(o->get(), "missing"), std::nullopt);
  EXPECT_EQ(json_string(nullptr, "s"), std::nullopt);
}

TEST(JsonRead, IdTakesStringsAndIntegralNumbersOnly) {
  auto o = json_parse(R"({"s":"abc","n":583231,"big":9007199254740992,"huge":1e300,"frac":2.5,"b":true})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(json_id(o->get(), "s"), "abc");
  EXPECT_EQ(json_id(o->get(), "n"), "583231");
  EXPECT_EQ(json_id(o->get(), "big"), "9007199254740992");
  EXPECT_EQ(json_id(o->get(), "huge"), std::nullopt);
  EXPECT_EQ(json_id(o->get(), "frac"), std::nullopt);
  EXPECT_EQ(json_id(o->get(), "b"), std::nullopt);
}

TEST(JsonRead, BoolNumberAndIntegerCheckTheType) {
  auto o =
      json_parse(R"({"t":true,"f":false,"s":"true","d":2.5,"i":-42,"huge":1e300,"big":9007199254740993})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(json_bool(o->get(), "t"), true);
  EXPECT_EQ(json_bool(o->get(), "f"), false);
  EXPECT_EQ(json_bool(o->get(), "s"), std::nullopt);
  EXPECT_EQ(json_number(o->get(), "d"), 2.5);
  EXPECT_EQ(json_number(o->get(), "s"), std::nullopt);
  EXPECT_EQ(json_integer(o->get(), "i"), -42L);
  EXPECT_EQ(json_integer(o->get(), "d"), std::nullopt);
  EXPECT_EQ(json_integer(o->get(), "huge"), std::nullopt);
  EXPECT_EQ(json_integer(o->get(), "s"), std::nullopt);
}

TEST(JsonWrite, SettersPrintCompactAndNulloptIsNull) {
  Json o = json_object();
  json_set_string(o.get(), "s", "a\"b");
  json_set_optional(o.get(), "some", std::string("x"));
  json_set_optional(o.get(), "none", std::nullopt);
  json_set_number(o.get(), "n", 3);
  EXPECT_EQ(json_print(o.get()), R"({"s":"a\"b","some":"x","none":null,"n":3})");
  auto back = json_parse(json_print(o.get()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(json_string(back->get(), "s"), "a\"b");
}

// Parsers disagree on which of two same-named members counts (cJSON keeps the first, Go
// and jansson the last): a document naming a member twice, at any depth, is refused.
TEST(JsonParse, AMemberNamedTwiceAnywhereIsRefused) {
  for (const char* text : {R"({"sub":"alice","sub":"mallory"})", R"({"a":1,"b":{"email":"x","email":"y"}})",
                           R"({"keys":[{"kid":"1","kid":"2"}]})", R"([{"n":1},{"m":2,"m":3}])"}) {
    auto doc = json_parse(text);
    ASSERT_FALSE(doc.ok()) << text;
    EXPECT_EQ(doc.error().kind, ErrorKind::provider_error) << text;
    EXPECT_NE(doc.error().reason.find("twice"), std::string::npos) << doc.error().reason;
    EXPECT_FALSE(json_parse_object(text).ok()) << text;
  }
  auto sub = json_parse(R"({"sub":"alice","sub":"mallory"})");
  ASSERT_FALSE(sub.ok());
  EXPECT_NE(sub.error().reason.find("\"sub\""), std::string::npos) << sub.error().reason;
  EXPECT_EQ(sub.error().reason.find("mallory"), std::string::npos) << "names the member, not its value";
  // The same name in two different objects is not a duplicate.
  EXPECT_TRUE(json_parse(R"({"a":{"id":1},"b":{"id":2},"id":3})").ok());
  EXPECT_TRUE(json_parse(R"([{"id":1},{"id":2}])").ok());
}
