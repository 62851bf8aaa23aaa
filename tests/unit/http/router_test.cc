#include "http/router.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace comms::http {
namespace {

Router sample() {
  Router r;
  r.add("GET", "/health", Access::anyone(), test::text_handler("ok"));
  r.add("GET", "/api/v1/notifications/{id}", Access::roles_of({Role::staff}), test::text_handler("one"));
  r.add("DELETE", "/api/v1/notifications/{id}", Access::roles_of({Role::staff}), test::text_handler("del"));
  r.add("GET", "/api/v1/notifications/stats", Access::roles_of({Role::staff}), test::text_handler("stats"));
  r.add("POST", "/api/v1/notifications", Access::roles_of({Role::service}), test::text_handler("new"));
  r.add("GET", "/api/v1/recipients/{rid}/inbox/{nid}", Access::anyone(), test::text_handler("inbox"));
  return r;
}

TEST(Router, MatchesLiteralRoutes) {
  const Router r = sample();
  const Match m = r.match("GET", "/health");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/health");
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, CapturesParameters) {
  const Router r = sample();
  const Match m = r.match("GET", "/api/v1/recipients/r-7/inbox/n-9");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"rid", "r-7"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"nid", "n-9"}));
}

TEST(Router, LiteralBeatsParameter) {
  const Router r = sample();
  EXPECT_EQ(r.match("GET", "/api/v1/notifications/stats").route->pattern, "/api/v1/notifications/stats");
  EXPECT_EQ(r.match("GET", "/api/v1/notifications/abc").route->pattern, "/api/v1/notifications/{id}");
}

TEST(Router, UnknownPathIs404) {
  const Router r = sample();
  for (const char* p : {"/nope", "/", "/api/v1/notifications/a/b", "/api/v1/notifications//", "health", ""}) {
    const Match m = r.match("GET", p);
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_FALSE(m.path_matched) << p;
  }
  EXPECT_EQ(r.match("GET", "/health/").route, nullptr);
}

TEST(Router, WrongMethodIs405WithAllowedMethods) {
  const Router r = sample();
  const Match m = r.match("PUT", "/api/v1/notifications/abc");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "DELETE"}));
}

TEST(Router, RejectsMalformedAndDuplicatePatterns) {
  Router r;
  EXPECT_THROW(r.add("GET", "nope", Access::anyone(), test::text_handler("")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{id", Access::anyone(), test::text_handler("")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{}", Access::anyone(), test::text_handler("")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a//b", Access::anyone(), test::text_handler("")), std::invalid_argument);
  r.add("GET", "/a/{id}", Access::anyone(), test::text_handler(""));
  EXPECT_THROW(r.add("GET", "/a/{id}", Access::anyone(), test::text_handler("")), std::invalid_argument);
}

TEST(Access, AdminAlwaysAllowed) {
  const Access a = Access::roles_of({Role::staff});
  EXPECT_TRUE(a.allows(Role::staff));
  EXPECT_TRUE(a.allows(Role::admin));
  EXPECT_FALSE(a.allows(Role::customer));
  EXPECT_FALSE(a.allows(Role::none));
  EXPECT_TRUE(Access::anyone().allows(Role::none));
}

}  // namespace
}  // namespace comms::http
