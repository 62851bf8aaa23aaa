// The TemplateRepository contract the service relies on, on SQLite: immutable versions, one active,
// optimistic concurrency, unique keys.
#include "unit/templating/fixture.h"

namespace comms::templating {
namespace {

using domain::Channel;

class TemplateStoreTest : public testing::TemplatingFixture {};

TEST_F(TemplateStoreTest, VersionsAreImmutableAndOneIsActive) {
  auto t = create("collections", "repayment-due", Channel::sms, "bem", body("v1", 2));
  EXPECT_EQ(t.active_version, 1);
  EXPECT_EQ(t.version, 1);

  add_version(t, body("v2", 1));
  EXPECT_EQ(t.active_version, 2);
  EXPECT_EQ(t.latest_version, 2);

  std::optional<store::TemplateRecord> found;
  std::vector<store::TemplateVersion> versions;
  read([&](store::UnitOfWork& uow) {
    found = uow.templates().find("collections", "repayment-due", Channel::sms, "bem");
    versions = uow.templates().versions(t.id);
  });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, t.id);
  EXPECT_EQ(found->active.body, "v2");
  EXPECT_EQ(found->active.max_segments, 1);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].content.body, "v1");
  EXPECT_EQ(versions[0].content.max_segments, 2);
  EXPECT_EQ(versions[1].content.body, "v2");
  EXPECT_EQ(versions[1].created_by, "test");

  // Re-activating keeps every version and makes the old content active again.
  write([&](store::UnitOfWork& uow) { ASSERT_TRUE(uow.templates().activate(t, 1)); });
  EXPECT_EQ(t.active.body, "v1");
  write([&](store::UnitOfWork& uow) { EXPECT_FALSE(uow.templates().activate(t, 7)); });
  read([&](store::UnitOfWork& uow) {
    found = uow.templates().get(t.id);
    versions = uow.templates().versions(t.id);
  });
  EXPECT_EQ(found->active_version, 1);
  EXPECT_EQ(found->latest_version, 2);
  EXPECT_EQ(found->active.body, "v1");
  EXPECT_EQ(versions.size(), 2u);
}

TEST_F(TemplateStoreTest, AStaleWriteIsAConflictAndAKeyIsUnique) {
  auto t = create("otp", "otp", Channel::sms, "en", body("v1"));
  auto stale = t;
  add_version(t, body("v2"));
  stale.active = body("lost update");
  EXPECT_THROW(write([&](store::UnitOfWork& uow) { uow.templates().add_version(stale, "other"); }),
               store::ConflictError);
  EXPECT_THROW(write([&](store::UnitOfWork& uow) { uow.templates().activate(stale, 1); }), store::ConflictError);
  EXPECT_THROW(create("otp", "otp", Channel::sms, "en", body("again")), store::DuplicateError);
  // Another locale or channel is another template.
  EXPECT_NO_THROW(create("otp", "otp", Channel::sms, "ny", body("Nyanja")));
  EXPECT_NO_THROW(create("otp", "otp", Channel::email, "en", body("mail")));
}

TEST_F(TemplateStoreTest, RemoveDeletesTheTemplateAndItsVersions) {
  auto t = create("otp", "otp", Channel::sms, "en", body("v1"));
  add_version(t, body("v2"));
  bool removed = false;
  write([&](store::UnitOfWork& uow) { removed = uow.templates().remove(t.id); });
  EXPECT_TRUE(removed);
  read([&](store::UnitOfWork& uow) {
    EXPECT_FALSE(uow.templates().get(t.id));
    EXPECT_TRUE(uow.templates().versions(t.id).empty());
  });
  write([&](store::UnitOfWork& uow) { removed = uow.templates().remove(t.id); });
  EXPECT_FALSE(removed);
  // The key is free again.
  EXPECT_NO_THROW(create("otp", "otp", Channel::sms, "en", body("fresh")));
}

}  // namespace
}  // namespace comms::templating
