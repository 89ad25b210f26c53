// What a handler answers an error with (context.cpp): the route's style, a link to a
// new login on HTML pages, and one log line at the level the status calls for.
#include "context.hpp"

#include <gtest/gtest.h>

#include "handler_harness.hpp"

using namespace oauthfcgi;

namespace {

class ContextTest : public testutil::HandlerTest {
protected:
  void SetUp() override {
    load_config(
        "[server]\npublic_url = https://www.example.com\nsecret_file = secret\nroute_prefix = /login\n"
        "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n");
  }
};

} // namespace

TEST_F(ContextTest, LoginPathIsUnderTheRoutePrefix) {
  EXPECT_EQ(login_path(*config_), "/login/connect");
}

TEST_F(ContextTest, HtmlErrorLinksToANewLogin) {
  Context ctx = context();
  Response r = error_answer(ctx, make_error(ErrorKind::bad_request, "the state is unknown"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("/login/connect"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("the state is unknown"), std::string::npos) << r.body;
}

TEST_F(ContextTest, ErrorFollowsTheRoutesStyle) {
  Context ctx = context();
  ctx.error_style = ErrorStyle::json;
  Response json = error_answer(ctx, make_error(ErrorKind::unauthenticated, "no session"));
  EXPECT_EQ(json.status, 401);
  EXPECT_EQ(json.body, R"({"error":"unauthenticated"})");
  ctx.error_style = ErrorStyle::status_only;
  Response bare = error_answer(ctx, make_error(ErrorKind::forbidden, "rule"));
  EXPECT_EQ(bare.status, 403);
  EXPECT_EQ(bare.body.find("rule"), std::string::npos) << bare.body;
}

TEST_F(ContextTest, FailLogsTheStatusAndReasonAtInfoBelow500AndErrorFrom500) {
  Log log("test", LogLevel::info, LogFormat::text);
  testutil::LogLines lines;
  lines.capture(log);
  Context ctx = context(http_, log);
  Response r = fail(ctx, make_error(ErrorKind::forbidden, "not in the org"), "check_denied");
  EXPECT_EQ(r.status, 403);
  ASSERT_EQ(lines.lines().size(), 1u);
  EXPECT_NE(lines.all().find("check_denied"), std::string::npos) << lines.all();
  EXPECT_NE(lines.all().find("403"), std::string::npos) << lines.all();
  EXPECT_NE(lines.all().find("not in the org"), std::string::npos) << lines.all();

  Log quiet("test", LogLevel::error, LogFormat::text);
  testutil::LogLines errors;
  errors.capture(quiet);
  Context ctx2 = context(http_, quiet);
  (void)fail(ctx2, make_error(ErrorKind::forbidden, "not in the org"), "check_denied");
  EXPECT_TRUE(errors.lines().empty()) << errors.all();
  Response down = fail(ctx2, make_error(ErrorKind::internal, "redis down"), "store_failed");
  EXPECT_EQ(down.status, 500);
  ASSERT_EQ(errors.lines().size(), 1u);
  EXPECT_NE(errors.all().find("store_failed"), std::string::npos) << errors.all();
}
