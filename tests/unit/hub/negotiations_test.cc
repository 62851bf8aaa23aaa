#include "hub/negotiations.h"

#include <gtest/gtest.h>

#include <set>

#include "hub/groups.h"

namespace comms::hub {
namespace {

using namespace std::chrono_literals;
using Clock = Negotiations::Clock;

TEST(Negotiations, ATokenIsClaimedOnceBySameSubject) {
  Negotiations n(30s, 10);
  const auto t0 = Clock::now();
  auto issued = n.issue("u1", t0);
  ASSERT_TRUE(issued);
  EXPECT_NE(issued->connection_id, issued->connection_token);
  EXPECT_EQ(n.pending(), 1u);
  EXPECT_EQ(n.claim(issued->connection_token, "u2", t0), Negotiations::Claim::unknown);
  EXPECT_EQ(n.claim(issued->connection_token, "u1", t0), Negotiations::Claim::ok);
  EXPECT_EQ(n.pending(), 0u);
  EXPECT_EQ(n.claim(issued->connection_token, "u1", t0), Negotiations::Claim::in_use);
  n.release(issued->connection_token);
  EXPECT_EQ(n.claim(issued->connection_token, "u1", t0), Negotiations::Claim::unknown);
  EXPECT_EQ(n.claim("never-issued", "u1", t0), Negotiations::Claim::unknown);
}

TEST(Negotiations, UnclaimedTokensExpireClaimedOnesDoNot) {
  Negotiations n(1s, 10);
  const auto t0 = Clock::now();
  auto a = n.issue("u1", t0);
  auto b = n.issue("u1", t0);
  ASSERT_EQ(n.claim(b->connection_token, "u1", t0), Negotiations::Claim::ok);
  n.expire(t0 + 2s);
  EXPECT_EQ(n.pending(), 0u);
  EXPECT_EQ(n.claim(a->connection_token, "u1", t0 + 2s), Negotiations::Claim::unknown);
  EXPECT_EQ(n.claim(b->connection_token, "u1", t0 + 2s), Negotiations::Claim::in_use);
}

TEST(Negotiations, PendingTokensAreBounded) {
  Negotiations n(1s, 3);
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(n.issue("u", t0));
  EXPECT_FALSE(n.issue("u", t0));
  // Expiry makes room again.
  EXPECT_TRUE(n.issue("u", t0 + 2s));
  EXPECT_EQ(n.pending(), 1u);
}

TEST(Negotiations, ReleasingAnUnclaimedTokenFreesItsSlot) {
  Negotiations n(30s, 1);
  auto a = n.issue("u");
  n.release(a->connection_token);
  EXPECT_EQ(n.pending(), 0u);
  EXPECT_TRUE(n.issue("u"));
}

TEST(RandomId, IsUrlSafeAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = random_id();
    EXPECT_EQ(id.size(), 22u);
    EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Groups, CustomersJoinOnlyTheirUserGroup) {
  http::Principal p{"c-1", http::Role::customer, "lusaka"};
  EXPECT_EQ(groups_of(p), (std::vector<std::string>{"user:c-1"}));
}

TEST(Groups, StaffJoinRoleAndBranch) {
  http::Principal p{"s-1", http::Role::staff, "ndola"};
  EXPECT_EQ(groups_of(p), (std::vector<std::string>{"user:s-1", "role:staff", "branch:ndola"}));
  p.branch.clear();
  EXPECT_EQ(groups_of(p), (std::vector<std::string>{"user:s-1", "role:staff"}));
  EXPECT_TRUE(groups_of(http::Principal{}).empty());
}

TEST(Groups, RecipientsMapToGroups) {
  EXPECT_EQ(group_for_recipient("c-1"), "user:c-1");
  EXPECT_EQ(group_for_recipient("branch:ndola"), "branch:ndola");
  EXPECT_EQ(group_for_recipient("role:staff"), "role:staff");
  EXPECT_EQ(group_for_recipient("user:c-1"), "user:user:c-1");  // never another user's group
}

}  // namespace
}  // namespace comms::hub
