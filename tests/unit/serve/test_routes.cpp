// The route table (routes.cpp) as the pipeline applies it: 405 with Allow for a
// method a route does not take, 404 for a path or name it does not take, the route's
// error style, and the session cookie only for the routes that read it.
#include "routes.hpp"

#include <gtest/gtest.h>

#include "handler_harness.hpp"

using namespace oauthfcgi;

namespace {

class Routes : public testutil::HandlerTest {
protected:
  void SetUp() override {
    load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = xyz\n");
  }
  Response run(const Route& route, const std::string& method, const std::string& path) {
    Program program{"test", ""};
    program.routes = {route};
    Context ctx = context();
    return handle_request(program, Request({{"REQUEST_METHOD", method}, {"SCRIPT_NAME", path}}), ctx);
  }
  // A route answering with what the pipeline put in the context.
  static Route echo_route(Route row) {
    row.handler = [](const Request&, Context& ctx) {
      Response r = Response::empty(200);
      r.body = ctx.route_name + "|" + (ctx.session ? *ctx.session : "-");
      return r;
    };
    return row;
  }
};

} // namespace

TEST_F(Routes, WrongMethodIs405WithAllowInTheRoutesStyle) {
  Response connect = run(route("connect"), "POST", "/auth/connect/github");
  EXPECT_EQ(connect.status, 405);
  EXPECT_EQ(*connect.header("Allow"), "GET, HEAD");
  EXPECT_NE(connect.body.find("<!DOCTYPE html>"), std::string::npos);
  Response profile = run(route("profile"), "DELETE", "/auth/profile");
  EXPECT_EQ(profile.status, 405);
  EXPECT_EQ(*profile.header("Allow"), "GET, HEAD");
  EXPECT_EQ(profile.body, R"({"error":"method_not_allowed","message":"use GET"})");
  EXPECT_EQ(*run(route("logout"), "GET", "/auth/logout").header("Allow"), "POST");
}

TEST_F(Routes, MethodIsCheckedBeforeThePath) {
  EXPECT_EQ(run(route("connect"), "POST", "/auth/connectX").status, 405);
  EXPECT_EQ(run(route("connect"), "GET", "/auth/connectX").status, 404);
}

TEST_F(Routes, NamesAreCheckedByTheTail) {
  Route connect = echo_route(route("connect"));
  EXPECT_EQ(run(connect, "GET", "/auth/connect").body, "|-");
  EXPECT_EQ(run(connect, "GET", "/auth/connect/").body, "|-");
  EXPECT_EQ(run(connect, "GET", "/auth/connect/git-hub_2/").body, "git-hub_2|-");
  EXPECT_EQ(run(connect, "GET", "/auth/connect/a.b").status, 404);
  Route callback = echo_route(route("callback"));
  EXPECT_EQ(run(callback, "GET", "/auth/callback").status, 404);
  EXPECT_EQ(run(callback, "GET", "/auth/callback/" + std::string(65, 'a')).status, 404);
  EXPECT_EQ(run(callback, "GET", "/auth/callback/github").body, "github|-");
}

TEST_F(Routes, OnlyRoutesThatReadTheSessionGetItsCookie) {
  std::string value(43, 'a');
  auto with_cookie = [&](const Route& r) {
    Program program{"test", ""};
    program.routes = {echo_route(r)};
    Context ctx = context();
    Request::Env env = {{"REQUEST_METHOD", "GET"}, {"HTTP_COOKIE", "__Host-oauth_session=" + value}};
    return handle_request(program, Request(env), ctx).body;
  };
  EXPECT_EQ(with_cookie(route("check")), "|" + value);
  Route connect = route("connect");
  connect.path = "";
  EXPECT_EQ(with_cookie(connect), "|-");
}
