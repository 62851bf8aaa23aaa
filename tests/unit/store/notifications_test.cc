#include "store_test.h"

namespace comms::store::testing {
namespace {

using domain::Channel;
using domain::Notification;
using domain::Status;

using NotificationRepositoryTest = StoreTest;
COMMS_STORE_BACKENDS(NotificationRepositoryTest);

void expect_same(const Notification& a, const Notification& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.correlation_id, b.correlation_id);
  EXPECT_EQ(a.recipient_id, b.recipient_id);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.template_category, b.template_category);
  EXPECT_EQ(a.template_name, b.template_name);
  EXPECT_EQ(a.locale, b.locale);
  EXPECT_EQ(a.personalization, b.personalization);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.critical, b.critical);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  EXPECT_EQ(a.lease_until, b.lease_until);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.provider_message_id, b.provider_message_id);
  EXPECT_EQ(a.cost_micros, b.cost_micros);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.sent_at, b.sent_at);
  EXPECT_EQ(a.delivered_at, b.delivered_at);
  EXPECT_EQ(a.read_at, b.read_at);
  EXPECT_EQ(a.version, b.version);
}

TEST_P(NotificationRepositoryTest, InsertThenGetRoundTripsEveryField) {
  Notification n = sample_notification();
  n.content += std::string("\0embedded nul", 13);
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  EXPECT_EQ(n.version, 1);

  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  expect_same(*got, n);
}

TEST_P(NotificationRepositoryTest, GetOfUnknownIdIsEmpty) {
  std::optional<Notification> got = sample_notification();
  read([&](UnitOfWork& u) { got = u.notifications().get("no-such-id"); });
  EXPECT_FALSE(got);
}

TEST_P(NotificationRepositoryTest, UpdateWritesFieldsAndBumpsVersion) {
  Notification n = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(n); });

  n.status = Status::sent;
  n.provider = "africastalking";
  n.provider_message_id = "ATXid_1";
  n.attempts = 3;
  n.sent_at = 99'000;
  write([&](UnitOfWork& u) { u.notifications().update(n); });
  EXPECT_EQ(n.version, 2);

  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  expect_same(*got, n);
}

TEST_P(NotificationRepositoryTest, StaleVersionIsAConflictAndChangesNothing) {
  Notification n = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  Notification stale = n;
  n.subject = "first writer";
  write([&](UnitOfWork& u) { u.notifications().update(n); });

  stale.subject = "second writer";
  EXPECT_THROW(write([&](UnitOfWork& u) { u.notifications().update(stale); }), ConflictError);
  EXPECT_EQ(stale.version, 1);

  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->subject, "first writer");
  EXPECT_EQ(got->version, 2);
}

TEST_P(NotificationRepositoryTest, UpdateOfMissingRowIsAConflict) {
  Notification n = sample_notification();
  n.version = 1;
  EXPECT_THROW(write([&](UnitOfWork& u) { u.notifications().update(n); }), ConflictError);
}

TEST_P(NotificationRepositoryTest, DuplicateIdIsADuplicateError) {
  Notification n = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  Notification again = sample_notification();
  again.id = n.id;
  try {
    write([&](UnitOfWork& u) { u.notifications().insert(again); });
    FAIL() << "no DuplicateError";
  } catch (const DuplicateError& e) {
    EXPECT_NE(std::string(e.what()).find("notifications"), std::string::npos) << e.what();
  }
}

TEST_P(NotificationRepositoryTest, ReadUnitsRefuseWrites) {
  Notification n = sample_notification();
  try {
    read([&](UnitOfWork& u) { u.notifications().insert(n); });
    FAIL() << "read unit accepted a write";
  } catch (const StoreError& e) {
    EXPECT_STREQ(e.what(), "read-only");
  }
  EXPECT_THROW(read([&](UnitOfWork& u) { u.notifications().claim_due(now_ms(), 10, 1000); }), StoreError);
  domain::Recipient r;
  EXPECT_THROW(read([&](UnitOfWork& u) { u.recipients().upsert(r); }), StoreError);
  EXPECT_THROW(read([&](UnitOfWork& u) { u.processed_events().add("e", "t", 1); }), StoreError);
  EXPECT_THROW(read([&](UnitOfWork& u) { u.outbox().mark_published(1, 1); }), StoreError);
  EXPECT_THROW(read([&](UnitOfWork& u) { u.idempotency().put({}); }), StoreError);
  DevMessage m;
  EXPECT_THROW(read([&](UnitOfWork& u) { u.dev_inbox().add(m); }), StoreError);
}

TEST_P(NotificationRepositoryTest, QueryFiltersOrdersPagesAndCounts) {
  // 30 rows: recipients a/b alternate, channels cycle sms/email/inapp, every
  // fifth is Sent; created_at = 100 * i.
  std::vector<Notification> all;
  write([&](UnitOfWork& u) {
    for (int i = 1; i <= 30; ++i) {
      Notification n = sample_notification(i % 2 ? "a" : "b", 100 * i);
      n.channel = static_cast<Channel>(i % 3);
      n.status = i % 5 == 0 ? Status::sent : Status::pending;
      u.notifications().insert(n);
      all.push_back(n);
    }
  });

  Page<Notification> page;
  NotificationQuery q;
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, 30);
  ASSERT_EQ(page.items.size(), 20u);
  EXPECT_EQ(page.items.front().created_at, 3000);  // newest first
  for (std::size_t i = 1; i < page.items.size(); ++i)
    EXPECT_GT(page.items[i - 1].created_at, page.items[i].created_at);

  q.page = 2;
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, 30);
  ASSERT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items.front().created_at, 1000);
  EXPECT_EQ(page.items.back().created_at, 100);

  q = {};
  q.recipient_id = "a";
  q.channel = Channel::email;  // i % 3 == 1, i odd: 1, 7, 13, 19, 25
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, 5);
  ASSERT_EQ(page.items.size(), 5u);
  EXPECT_EQ(page.items[0].created_at, 2500);
  EXPECT_EQ(page.items[4].created_at, 100);

  q = {};
  q.status = Status::sent;
  q.from = 1000;
  q.to = 2500;  // i in 10..25 and i % 5 == 0: 10, 15, 20, 25
  q.page_size = 3;
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, 4);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].created_at, 2500);
  EXPECT_EQ(page.items[2].created_at, 1500);

  q.page = 99;
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, 4);
  EXPECT_TRUE(page.items.empty());

  q = {};
  q.page = -3;      // clamped to 1
  q.page_size = 0;  // clamped to 1
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].created_at, 3000);
}

TEST_P(NotificationRepositoryTest, QueryBreaksCreatedAtTiesByIdDescending) {
  std::vector<std::string> ids;
  write([&](UnitOfWork& u) {
    for (int i = 0; i < 5; ++i) {
      Notification n = sample_notification("same", 500);
      u.notifications().insert(n);
      ids.push_back(n.id);
    }
  });
  std::sort(ids.rbegin(), ids.rend());
  Page<Notification> page;
  read([&](UnitOfWork& u) { page = u.notifications().query({}); });
  ASSERT_EQ(page.items.size(), 5u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(page.items[i].id, ids[i]);
}

TEST_P(NotificationRepositoryTest, FindsByProviderMessageId) {
  Notification a = sample_notification();
  a.provider = "africastalking";
  a.provider_message_id = "ATXid_a";
  Notification b = sample_notification();
  b.provider = "kannel";
  b.provider_message_id = "ATXid_a";
  Notification unsent = sample_notification();
  unsent.provider = "africastalking";
  write([&](UnitOfWork& u) {
    u.notifications().insert(a);
    u.notifications().insert(b);
    u.notifications().insert(unsent);
  });
  std::optional<Notification> found, other, missing, empty;
  read([&](UnitOfWork& u) {
    found = u.notifications().find_by_provider_message_id("africastalking", "ATXid_a");
    other = u.notifications().find_by_provider_message_id("kannel", "ATXid_a");
    missing = u.notifications().find_by_provider_message_id("africastalking", "nope");
    empty = u.notifications().find_by_provider_message_id("africastalking", "");
  });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, a.id);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->id, b.id);
  EXPECT_FALSE(missing);
  EXPECT_FALSE(empty);
}

TEST_P(NotificationRepositoryTest, CountsAndNextDue) {
  std::optional<Millis> next = 1;
  read([&](UnitOfWork& u) { next = u.notifications().next_due_at(); });
  EXPECT_FALSE(next);

  write([&](UnitOfWork& u) {
    auto add = [&](Channel c, Status s, Millis due) {
      Notification n = sample_notification();
      n.channel = c;
      n.status = s;
      n.next_attempt_at = due;
      u.notifications().insert(n);
    };
    add(Channel::sms, Status::pending, 100);
    add(Channel::sms, Status::pending, 200);
    add(Channel::sms, Status::pending, 300);
    add(Channel::email, Status::pending, 50);  // earliest, but see below: still Pending
    add(Channel::sms, Status::sent, 10);       // not Pending: never due
    add(Channel::inapp, Status::failed, 10);
  });
  std::int64_t due_at_200 = 0, due_at_0 = -1;
  std::map<std::pair<Channel, Status>, std::int64_t> by;
  read([&](UnitOfWork& u) {
    due_at_200 = u.notifications().count_due(200);
    due_at_0 = u.notifications().count_due(0);
    by = u.notifications().count_by_channel_status();
    next = u.notifications().next_due_at();
  });
  EXPECT_EQ(due_at_200, 3);
  EXPECT_EQ(due_at_0, 0);
  EXPECT_EQ(next, 50);
  const std::map<std::pair<Channel, Status>, std::int64_t> expected{
      {{Channel::sms, Status::pending}, 3},
      {{Channel::email, Status::pending}, 1},
      {{Channel::sms, Status::sent}, 1},
      {{Channel::inapp, Status::failed}, 1},
  };
  EXPECT_EQ(by, expected);
}

}  // namespace
}  // namespace comms::store::testing
