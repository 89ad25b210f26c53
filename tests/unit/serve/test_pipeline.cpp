// The request pipeline (pipeline.cpp) in process, on a route table of its own: 405
// with Allow, 404 for a path or name the route does not take, the route's name and
// error style handed to the handler, and a bad handler turned into a 500.
#include <gtest/gtest.h>

#include "handler_harness.hpp"
#include "serve.hpp"

using namespace oauthfcgi;

namespace {

class Pipeline : public testutil::HandlerTest {
protected:
  void SetUp() override {
    load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n");
    Route item;
    item.name = "item";
    item.path = "/item";
    item.tail = RouteTail::name;
    item.methods = {"GET", "HEAD"};
    item.error_style = ErrorStyle::json;
    item.wrong_method = "item takes GET";
    item.not_found = "no such item";
    item.handler = [this](const Request&, Context& ctx) {
      seen_name = ctx.route_name;
      seen_style = ctx.error_style;
      return Response::json(200, "item " + ctx.route_name);
    };
    Route home;
    home.name = "home";
    home.path = "/home";
    home.tail = RouteTail::optional_name;
    home.handler = [](const Request&, Context& ctx) {
      return Response::json(200, "home[" + ctx.route_name + "]");
    };
    program_.routes = {item, home};
  }

  Response run(Request::Env env) {
    Context ctx = context();
    return handle_request(program_, Request(std::move(env)), ctx);
  }

  Program program_{"test", ""};
  std::string seen_name;
  ErrorStyle seen_style = ErrorStyle::html;
};

} // namespace

TEST_F(Pipeline, TheNameAfterTheRouteGoesToTheHandlerWithTheRoutesStyle) {
  Response r = run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/item/abc-1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "item abc-1");
  EXPECT_EQ(seen_name, "abc-1");
  EXPECT_EQ(seen_style, ErrorStyle::json);
}

TEST_F(Pipeline, AMethodTheRouteDoesNotTakeIs405WithAllow) {
  Response r = run({{"REQUEST_METHOD", "POST"}, {"SCRIPT_NAME", "/auth/item/abc"}});
  EXPECT_EQ(r.status, 405);
  ASSERT_NE(r.header("Allow"), nullptr);
  EXPECT_EQ(*r.header("Allow"), "GET, HEAD");
  EXPECT_NE(r.body.find("item takes GET"), std::string::npos) << r.body;
  EXPECT_EQ(seen_name, "");
}

TEST_F(Pipeline, AMissingOrMalformedNameIs404) {
  EXPECT_EQ(run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/item"}}).status, 404);
  Response bad = run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/item/a.b"}});
  EXPECT_EQ(bad.status, 404);
  EXPECT_NE(bad.body.find("no such item"), std::string::npos) << bad.body;
  EXPECT_EQ(seen_name, "");
}

TEST_F(Pipeline, AnOptionalNameMayBeAbsentAndATrailingSlashIsDropped) {
  EXPECT_EQ(run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/home"}}).body, "home[]");
  EXPECT_EQ(run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/home/x/"}}).body, "home[x]");
}

TEST_F(Pipeline, AStrayPathIsRefusedAsTheFirstRowRefusesIt) {
  Response r = run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/itemX"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such item"), std::string::npos) << r.body;
}

TEST_F(Pipeline, AHandlerAnsweringAnImpossibleStatusIs500) {
  program_.routes[1].handler = [](const Request&, Context&) { return Response::json(42, "?"); };
  Response r = run({{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/home"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("?"), std::string::npos) << r.body;
}

TEST_F(Pipeline, WithoutRoutesTheProgramsHandlerTakesEveryPath) {
  Program bare = catch_all_program(
      "bare", "", [](const Request& request, Context&) { return Response::json(200, request.method()); });
  Context ctx = context();
  Response r =
      handle_request(bare, Request({{"REQUEST_METHOD", "DELETE"}, {"SCRIPT_NAME", "/anything"}}), ctx);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "DELETE");
}
