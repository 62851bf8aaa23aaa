#include "store_test.h"

namespace comms::store::testing {
namespace {

using RepositoriesTest = StoreTest;
COMMS_STORE_BACKENDS(RepositoriesTest);

domain::Recipient sample_recipient() {
  domain::Recipient r;
  r.id = "cust-" + new_uuid();
  r.name = "Mwansa Banda";
  r.phone = "+260971234567";
  r.email = "mwansa@example.com";
  r.language = "bem";
  r.timezone = "Africa/Lusaka";
  r.branch_id = "lusaka-cairo-rd";
  r.updated_at = 1234;
  return r;
}

TEST_P(RepositoriesTest, RecipientUpsertInsertsThenReplacesLastWriterWins) {
  domain::Recipient r = sample_recipient();
  write([&](UnitOfWork& u) { u.recipients().upsert(r); });
  EXPECT_EQ(r.version, 1);

  domain::Recipient blind = r;
  blind.version = 0;  // last writer wins
  blind.phone = "+260977000000";
  write([&](UnitOfWork& u) { u.recipients().upsert(blind); });
  EXPECT_EQ(blind.version, 2);

  std::optional<domain::Recipient> got;
  read([&](UnitOfWork& u) { got = u.recipients().get(r.id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, r.name);
  EXPECT_EQ(got->phone, "+260977000000");
  EXPECT_EQ(got->email, r.email);
  EXPECT_EQ(got->language, r.language);
  EXPECT_EQ(got->timezone, r.timezone);
  EXPECT_EQ(got->branch_id, r.branch_id);
  EXPECT_EQ(got->updated_at, r.updated_at);
  EXPECT_EQ(got->version, 2);
}

TEST_P(RepositoriesTest, RecipientUpsertWithVersionChecksIt) {
  domain::Recipient r = sample_recipient();
  write([&](UnitOfWork& u) { u.recipients().upsert(r); });

  domain::Recipient stale = r;
  r.name = "Mwansa B.";
  write([&](UnitOfWork& u) { u.recipients().upsert(r); });
  EXPECT_EQ(r.version, 2);

  stale.name = "lost update";
  EXPECT_THROW(write([&](UnitOfWork& u) { u.recipients().upsert(stale); }), ConflictError);
  EXPECT_EQ(stale.version, 1);

  domain::Recipient ghost = sample_recipient();
  ghost.version = 3;  // a version for a row that does not exist
  EXPECT_THROW(write([&](UnitOfWork& u) { u.recipients().upsert(ghost); }), ConflictError);

  std::optional<domain::Recipient> got, none;
  read([&](UnitOfWork& u) {
    got = u.recipients().get(r.id);
    none = u.recipients().get(ghost.id);
  });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "Mwansa B.");
  EXPECT_EQ(got->version, 2);
  EXPECT_FALSE(none);
}

TEST_P(RepositoriesTest, ProcessedEventIsRecordedOnce) {
  bool first = false, second = true, known = false, unknown = true;
  write([&](UnitOfWork& u) { first = u.processed_events().add("e-1", "LoanApproved", 100); });
  write([&](UnitOfWork& u) { second = u.processed_events().add("e-1", "LoanApproved", 200); });
  read([&](UnitOfWork& u) {
    known = u.processed_events().exists("e-1");
    unknown = u.processed_events().exists("e-2");
  });
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_TRUE(known);
  EXPECT_FALSE(unknown);
}

TEST_P(RepositoriesTest, OutboxKeepsSeqOrderAndTracksPublishing) {
  std::vector<OutboxMessage> added(5);
  write([&](UnitOfWork& u) {
    for (int i = 0; i < 5; ++i) {
      added[i] = OutboxMessage{0,
                               new_uuid(),
                               "NotificationSent",
                               "{\"i\":" + std::to_string(i) + "}",
                               "corr-" + std::to_string(i),
                               100 + i,
                               0,
                               0,
                               ""};
      u.outbox().add(added[i]);
    }
  });
  for (int i = 1; i < 5; ++i) EXPECT_GT(added[i].seq, added[i - 1].seq);

  std::vector<OutboxMessage> pending;
  read([&](UnitOfWork& u) { pending = u.outbox().pending(3); });
  ASSERT_EQ(pending.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pending[i].seq, added[i].seq);
    EXPECT_EQ(pending[i].id, added[i].id);
    EXPECT_EQ(pending[i].message_type, "NotificationSent");
    EXPECT_EQ(pending[i].payload, added[i].payload);
    EXPECT_EQ(pending[i].correlation_id, added[i].correlation_id);
    EXPECT_EQ(pending[i].created_at, added[i].created_at);
    EXPECT_EQ(pending[i].published_at, 0);
  }

  write([&](UnitOfWork& u) {
    u.outbox().mark_published(added[0].seq, 500);
    u.outbox().mark_published(added[2].seq, 501);
    u.outbox().mark_published(std::vector<std::int64_t>{}, 502);  // nothing to mark: a no-op
    u.outbox().mark_failed(added[1].seq, "connection refused");
    u.outbox().mark_failed(added[1].seq, "channel closed");
  });
  read([&](UnitOfWork& u) { pending = u.outbox().pending(10); });
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].seq, added[1].seq);
  EXPECT_EQ(pending[0].attempts, 2);
  EXPECT_EQ(pending[0].last_error, "channel closed");
  EXPECT_EQ(pending[1].seq, added[3].seq);
  EXPECT_EQ(pending[2].seq, added[4].seq);

  // A round's confirmations in one call; rows not named keep published_at = 0.
  write([&](UnitOfWork& u) {
    const std::vector<std::int64_t> round{added[3].seq, added[4].seq};
    u.outbox().mark_published(round, 600);
  });
  read([&](UnitOfWork& u) { pending = u.outbox().pending(10); });
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].seq, added[1].seq);
  write([&](UnitOfWork& u) {
    const std::vector<std::int64_t> rest{added[1].seq};
    u.outbox().mark_published(rest, 601);
  });
  read([&](UnitOfWork& u) { pending = u.outbox().pending(10); });
  EXPECT_TRUE(pending.empty());

  // Later messages always get higher sequence numbers.
  OutboxMessage later{0, new_uuid(), "NotificationFailed", "{}", "", 900, 0, 0, ""};
  write([&](UnitOfWork& u) { u.outbox().add(later); });
  EXPECT_GT(later.seq, added[4].seq);

  OutboxMessage same_id = later;
  EXPECT_THROW(write([&](UnitOfWork& u) { u.outbox().add(same_id); }), DuplicateError);
}

TEST_P(RepositoriesTest, RelayLeaseHasOneHolderUntilItExpires) {
  auto acquire = [&](const std::string& holder, Millis now, Millis until) {
    bool held = false;
    write([&](UnitOfWork& u) { held = u.outbox().acquire_relay_lease(holder, now, until); });
    return held;
  };
  EXPECT_TRUE(acquire("relay-a", 1000, 11000));    // free: granted
  EXPECT_FALSE(acquire("relay-b", 2000, 12000));   // held by a, not expired
  EXPECT_TRUE(acquire("relay-a", 6000, 16000));    // the holder renews
  EXPECT_FALSE(acquire("relay-b", 15999, 25999));  // renewed: still a's
  EXPECT_TRUE(acquire("relay-b", 16001, 26001));   // expired: b takes over
  EXPECT_FALSE(acquire("relay-a", 17000, 27000));  // and a is out
  EXPECT_FALSE(acquire("relay-a", 18000, 0));      // a "release" by a non-holder changes nothing
  EXPECT_FALSE(acquire("relay-c", 18000, 28000));
  EXPECT_TRUE(acquire("relay-b", 18000, 0));      // the holder releases (expires it now)...
  EXPECT_TRUE(acquire("relay-c", 18001, 28001));  // ...and the next one gets it at once
}

TEST_P(RepositoriesTest, IdempotencyKeysArePerPrincipalAndUnique) {
  IdempotencyRecord rec{"key-1", "svc-loans", "sha256:abc", "n-1", 1000};
  write([&](UnitOfWork& u) { u.idempotency().put(rec); });

  std::optional<IdempotencyRecord> got, other_principal;
  read([&](UnitOfWork& u) {
    got = u.idempotency().get("svc-loans", "key-1");
    other_principal = u.idempotency().get("svc-collections", "key-1");
  });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->key, "key-1");
  EXPECT_EQ(got->principal, "svc-loans");
  EXPECT_EQ(got->request_hash, "sha256:abc");
  EXPECT_EQ(got->notification_id, "n-1");
  EXPECT_EQ(got->created_at, 1000);
  EXPECT_FALSE(other_principal);

  IdempotencyRecord again{"key-1", "svc-loans", "sha256:def", "n-2", 2000};
  EXPECT_THROW(write([&](UnitOfWork& u) { u.idempotency().put(again); }), DuplicateError);
  IdempotencyRecord other{"key-1", "svc-collections", "sha256:def", "n-2", 2000};
  EXPECT_NO_THROW(write([&](UnitOfWork& u) { u.idempotency().put(other); }));
}

TEST_P(RepositoriesTest, DevInboxKeepsOneCopyPerNotificationNewestFirst) {
  std::vector<DevMessage> msgs(4);
  for (int i = 0; i < 4; ++i)
    msgs[i] = DevMessage{0,
                         "n-" + std::to_string(i),
                         domain::Channel::sms,
                         "+260971234567",
                         "",
                         "Your OTP is " + std::to_string(1000 + i),
                         100 + i};
  msgs[3].channel = domain::Channel::email;
  msgs[3].subject = "Statement";
  std::vector<bool> stored;
  write([&](UnitOfWork& u) {
    for (auto& m : msgs) stored.push_back(u.dev_inbox().add(m));
  });
  EXPECT_EQ(stored, std::vector<bool>(4, true));

  DevMessage dup = msgs[1];
  dup.seq = 0;
  dup.body = "resent";
  bool dup_stored = true;
  write([&](UnitOfWork& u) { dup_stored = u.dev_inbox().add(dup); });
  EXPECT_FALSE(dup_stored);
  EXPECT_EQ(dup.seq, 0);

  Page<DevMessage> page;
  read([&](UnitOfWork& u) { page = u.dev_inbox().list(1, 3); });
  EXPECT_EQ(page.total, 4);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].notification_id, "n-3");
  EXPECT_EQ(page.items[0].channel, domain::Channel::email);
  EXPECT_EQ(page.items[0].subject, "Statement");
  EXPECT_EQ(page.items[0].seq, msgs[3].seq);
  EXPECT_EQ(page.items[2].notification_id, "n-1");
  EXPECT_EQ(page.items[2].body, "Your OTP is 1001");
  EXPECT_EQ(page.items[2].to, "+260971234567");
  EXPECT_EQ(page.items[2].captured_at, 101);

  read([&](UnitOfWork& u) { page = u.dev_inbox().list(2, 3); });
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].notification_id, "n-0");
}

}  // namespace
}  // namespace comms::store::testing
