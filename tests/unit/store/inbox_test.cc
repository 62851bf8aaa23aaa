// The in-app inbox (issue 6): listing, unread counts and mark_read, including how a read survives
// the dispatcher's concurrent outcome update.
#include "store_test.h"

namespace comms::store::testing {
namespace {

using domain::Channel;
using domain::Notification;
using domain::Status;

using InboxTest = StoreTest;
COMMS_STORE_BACKENDS(InboxTest);

Notification inapp(const std::string& recipient, Millis created_at, Status status = Status::sent) {
  Notification n = sample_notification(recipient, created_at);
  n.channel = Channel::inapp;
  n.status = status;
  n.read_at = 0;
  return n;
}

TEST_P(InboxTest, ListsOnlyTheUsersSentInAppNotificationsNewestFirst) {
  std::vector<Notification> rows = {
      inapp("u1", 1000),
      inapp("u1", 3000, Status::delivered),
      inapp("u1", 2000),
      inapp("u1", 4000, Status::pending),  // not sent yet: not in the inbox
      inapp("u1", 5000, Status::cancelled),
      inapp("u2", 6000),  // someone else's
  };
  Notification sms = sample_notification("u1", 7000);  // another channel
  sms.status = Status::sent;
  rows.push_back(sms);
  write([&](UnitOfWork& u) {
    for (auto& n : rows) u.notifications().insert(n);
  });

  InboxPage page;
  read([&](UnitOfWork& u) { page = u.notifications().inbox({"u1"}); });
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, rows[1].id);
  EXPECT_EQ(page.items[1].id, rows[2].id);
  EXPECT_EQ(page.items[2].id, rows[0].id);
  EXPECT_EQ(page.total, 3);
  EXPECT_EQ(page.unread, 3);
}

TEST_P(InboxTest, PagesAndUnreadOnly) {
  std::vector<Notification> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(inapp("u1", 1000 + i));
  write([&](UnitOfWork& u) {
    for (auto& n : rows) u.notifications().insert(n);
  });
  bool changed = false;
  write([&](UnitOfWork& u) { changed = u.notifications().mark_read(rows[4].id, 9000); });
  EXPECT_TRUE(changed);

  InboxPage page;
  read([&](UnitOfWork& u) { page = u.notifications().inbox({"u1", false, 2, 2}); });
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, rows[2].id);
  EXPECT_EQ(page.total, 5);
  EXPECT_EQ(page.unread, 4);

  read([&](UnitOfWork& u) { page = u.notifications().inbox({"u1", true, 1, 10}); });
  ASSERT_EQ(page.items.size(), 4u);
  EXPECT_EQ(page.items[0].id, rows[3].id);
  EXPECT_EQ(page.total, 4);
  EXPECT_EQ(page.unread, 4);
}

TEST_P(InboxTest, MarkReadIsOnceAndOnlyForInApp) {
  Notification n = inapp("u1", 1000);
  Notification sms = sample_notification("u1", 1000);
  sms.read_at = 0;
  write([&](UnitOfWork& u) {
    u.notifications().insert(n);
    u.notifications().insert(sms);
  });
  bool first = false, second = true, other = true, missing = true;
  write([&](UnitOfWork& u) {
    first = u.notifications().mark_read(n.id, 5000);
    second = u.notifications().mark_read(n.id, 6000);
    other = u.notifications().mark_read(sms.id, 5000);
    missing = u.notifications().mark_read("no-such-id", 5000);
  });
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_FALSE(other);
  EXPECT_FALSE(missing);

  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->read_at, 5000);
  EXPECT_EQ(got->version, 1);  // a read is not a version change
}

TEST_P(InboxTest, ReadSurvivesAnOutcomeWrittenFromAnOlderCopy) {
  Notification n = inapp("u1", 1000, Status::sending);
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  // The client reads the pushed message before the dispatcher commits its outcome.
  write([&](UnitOfWork& u) { u.notifications().mark_read(n.id, 5000); });
  n.status = Status::delivered;
  n.delivered_at = 4000;
  write([&](UnitOfWork& u) { u.notifications().update(n); });  // no conflict

  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, Status::delivered);
  EXPECT_EQ(got->read_at, 5000);
}

TEST_P(InboxTest, MarkReadNeedsAWritableUnitOfWork) {
  Notification n = inapp("u1", 1000);
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  EXPECT_THROW(read([&](UnitOfWork& u) { u.notifications().mark_read(n.id, 1); }), StoreError);
}

}  // namespace
}  // namespace comms::store::testing
