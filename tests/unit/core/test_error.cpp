#include "error.hpp"

#include <gtest/gtest.h>

using namespace oauthfcgi;

TEST(Error, EveryKindMapsToTheStatusOfTheContract) {
  EXPECT_EQ(http_status(ErrorKind::bad_request), 400);
  EXPECT_EQ(http_status(ErrorKind::unauthenticated), 401);
  EXPECT_EQ(http_status(ErrorKind::forbidden), 403);
  EXPECT_EQ(http_status(ErrorKind::not_found), 404);
  EXPECT_EQ(http_status(ErrorKind::method_not_allowed), 405);
  EXPECT_EQ(http_status(ErrorKind::body_too_large), 413);
  EXPECT_EQ(http_status(ErrorKind::uri_too_long), 414);
  EXPECT_EQ(http_status(ErrorKind::headers_too_large), 431);
  EXPECT_EQ(http_status(ErrorKind::provider_error), 502);
  EXPECT_EQ(http_status(ErrorKind::store_unavailable), 503);
  EXPECT_EQ(http_status(ErrorKind::provider_timeout), 504);
  EXPECT_EQ(http_status(ErrorKind::internal), 500);
}

TEST(Error, ResultHoldsAValueOrAnError) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(make_error(ErrorKind::not_found, "no such provider \"x\""));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::not_found);
  EXPECT_EQ(bad.error().reason, "no such provider \"x\"");
  Result<void> done;
  EXPECT_TRUE(done.ok());
  Result<void> failed(make_error(ErrorKind::store_unavailable, "redis down"));
  EXPECT_FALSE(failed.ok());
  EXPECT_STREQ(status_text(http_status(failed.error().kind)), "Service Unavailable");
}
