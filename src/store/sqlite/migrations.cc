#include "store/sqlite/migrations.h"

#include <array>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace comms::store::sqlite {
namespace {

// Plain SQL types (TEXT, INTEGER, BIGINT) and constraints so each step reads
// the same on PostgreSQL; only the sequence column of append-only tables is
// SQLite-specific (INTEGER PRIMARY KEY AUTOINCREMENT, BIGSERIAL there).
// Times are milliseconds since the epoch, 0 meaning "not yet"; enums are their
// wire names ("sms", "Pending").
constexpr std::string_view kNotifications = R"sql(
CREATE TABLE notifications (
  id                  TEXT    NOT NULL PRIMARY KEY,
  event_id            TEXT    NOT NULL DEFAULT '',
  correlation_id      TEXT    NOT NULL DEFAULT '',
  recipient_id        TEXT    NOT NULL,
  channel             TEXT    NOT NULL,
  to_address          TEXT    NOT NULL DEFAULT '',
  template_category   TEXT    NOT NULL DEFAULT '',
  template_name       TEXT    NOT NULL DEFAULT '',
  locale              TEXT    NOT NULL DEFAULT '',
  personalization     TEXT    NOT NULL DEFAULT '',
  subject             TEXT    NOT NULL DEFAULT '',
  content             TEXT    NOT NULL DEFAULT '',
  status              TEXT    NOT NULL,
  priority            INTEGER NOT NULL DEFAULT 0,
  critical            INTEGER NOT NULL DEFAULT 0,
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     BIGINT  NOT NULL DEFAULT 0,
  lease_until         BIGINT  NOT NULL DEFAULT 0,
  provider            TEXT    NOT NULL DEFAULT '',
  provider_message_id TEXT    NOT NULL DEFAULT '',
  cost_micros         BIGINT  NOT NULL DEFAULT 0,
  currency            TEXT    NOT NULL DEFAULT '',
  last_error          TEXT    NOT NULL DEFAULT '',
  created_at          BIGINT  NOT NULL,
  sent_at             BIGINT  NOT NULL DEFAULT 0,
  delivered_at        BIGINT  NOT NULL DEFAULT 0,
  read_at             BIGINT  NOT NULL DEFAULT 0,
  version             BIGINT  NOT NULL
);
CREATE INDEX notifications_recipient_created ON notifications (recipient_id, created_at DESC);
CREATE INDEX notifications_created ON notifications (created_at);
-- Partial indexes: only the rows the dispatcher looks for, so the common
-- Sent/Delivered rows cost nothing to keep indexed and claims stay O(limit).
CREATE INDEX notifications_due ON notifications (priority DESC, next_attempt_at) WHERE status = 'Pending';
CREATE INDEX notifications_leased ON notifications (lease_until) WHERE status = 'Sending';
CREATE INDEX notifications_provider_message ON notifications (provider, provider_message_id)
  WHERE provider_message_id <> '';

CREATE TABLE recipients (
  id         TEXT   NOT NULL PRIMARY KEY,
  name       TEXT   NOT NULL DEFAULT '',
  phone      TEXT   NOT NULL DEFAULT '',
  email      TEXT   NOT NULL DEFAULT '',
  language   TEXT   NOT NULL DEFAULT '',
  timezone   TEXT   NOT NULL DEFAULT '',
  branch_id  TEXT   NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL DEFAULT 0,
  version    BIGINT NOT NULL
);
)sql";

constexpr std::string_view kMessaging = R"sql(
CREATE TABLE processed_events (
  event_id     TEXT   NOT NULL PRIMARY KEY,
  event_type   TEXT   NOT NULL,
  processed_at BIGINT NOT NULL
);

CREATE TABLE outbox (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT    NOT NULL UNIQUE,
  message_type   TEXT    NOT NULL,
  payload        TEXT    NOT NULL,
  correlation_id TEXT    NOT NULL DEFAULT '',
  created_at     BIGINT  NOT NULL,
  published_at   BIGINT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  last_error     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
  principal       TEXT   NOT NULL,
  key             TEXT   NOT NULL,
  request_hash    TEXT   NOT NULL,
  notification_id TEXT   NOT NULL DEFAULT '',
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (principal, key)
);
)sql";

constexpr std::string_view kDevInbox = R"sql(
CREATE TABLE dev_inbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id TEXT    NOT NULL UNIQUE,
  channel         TEXT    NOT NULL,
  to_address      TEXT    NOT NULL DEFAULT '',
  subject         TEXT    NOT NULL DEFAULT '',
  body            TEXT    NOT NULL DEFAULT '',
  captured_at     BIGINT  NOT NULL
);
)sql";

// Issue 4: recipient preferences, and saga instances with their history.
constexpr std::string_view kPreferencesWorkflows = R"sql(
CREATE TABLE recipient_preferences (
  recipient_id         TEXT   NOT NULL PRIMARY KEY,
  opted_out_channels   TEXT   NOT NULL DEFAULT '',
  opted_out_categories TEXT   NOT NULL DEFAULT '',
  quiet_start          TEXT   NOT NULL DEFAULT '',
  quiet_end            TEXT   NOT NULL DEFAULT '',
  timezone             TEXT   NOT NULL DEFAULT '',
  language             TEXT   NOT NULL DEFAULT '',
  updated_at           BIGINT NOT NULL DEFAULT 0,
  version              BIGINT NOT NULL
);

CREATE TABLE workflow_instances (
  correlation_id TEXT   NOT NULL PRIMARY KEY,
  workflow       TEXT   NOT NULL,
  current_state  TEXT   NOT NULL,
  event_id       TEXT   NOT NULL DEFAULT '',
  event_type     TEXT   NOT NULL DEFAULT '',
  event_payload  TEXT   NOT NULL DEFAULT '{}',
  flags          TEXT   NOT NULL DEFAULT '{}',
  steps          TEXT   NOT NULL DEFAULT '{}',
  wake_at        BIGINT NOT NULL DEFAULT 0,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  completed_at   BIGINT NOT NULL DEFAULT 0,
  version        BIGINT NOT NULL
);
CREATE INDEX workflow_instances_wake ON workflow_instances (wake_at) WHERE wake_at > 0;

CREATE TABLE workflow_history (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  correlation_id TEXT    NOT NULL,
  at             BIGINT  NOT NULL,
  from_state     TEXT    NOT NULL DEFAULT '',
  to_state       TEXT    NOT NULL,
  cause          TEXT    NOT NULL,
  detail         TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX workflow_history_correlation ON workflow_history (correlation_id, seq);
)sql";

// Issue 6: a user's in-app inbox, newest first, and its unread part (the unread count walks only
// unread rows).
constexpr std::string_view kInAppInbox = R"sql(
CREATE INDEX notifications_inbox ON notifications (recipient_id, created_at DESC) WHERE channel = 'inapp';
CREATE INDEX notifications_inbox_unread ON notifications (recipient_id, created_at DESC)
  WHERE channel = 'inapp' AND read_at = 0;
)sql";

// Issue 3: message templates and their immutable versions.
constexpr std::string_view kTemplates = R"sql(
CREATE TABLE templates (
  id             TEXT    NOT NULL PRIMARY KEY,
  category       TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  channel        TEXT    NOT NULL,
  locale         TEXT    NOT NULL,
  description    TEXT    NOT NULL DEFAULT '',
  active_version INTEGER NOT NULL DEFAULT 0,
  latest_version INTEGER NOT NULL DEFAULT 0,
  created_at     BIGINT  NOT NULL,
  updated_at     BIGINT  NOT NULL,
  version        BIGINT  NOT NULL,
  UNIQUE (category, name, channel, locale)
);

CREATE TABLE template_versions (
  template_id  TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  subject      TEXT    NOT NULL DEFAULT '',
  body         TEXT    NOT NULL DEFAULT '',
  html_body    TEXT    NOT NULL DEFAULT '',
  max_segments INTEGER NOT NULL DEFAULT 0,
  strict       INTEGER NOT NULL DEFAULT 0,
  created_by   TEXT    NOT NULL DEFAULT '',
  created_at   BIGINT  NOT NULL,
  PRIMARY KEY (template_id, version)
);
)sql";

// Issue 7: leases (one outbox relay at a time across instances sharing a database).
constexpr std::string_view kLeases = R"sql(
CREATE TABLE leases (
  name       TEXT   NOT NULL PRIMARY KEY,
  holder     TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);
)sql";

constexpr std::array<Migration, 7> kMigrations{{
    {1, "notifications_and_recipients", kNotifications},
    {2, "inbox_outbox_idempotency", kMessaging},
    {3, "dev_inbox", kDevInbox},
    {4, "preferences_and_workflows", kPreferencesWorkflows},
    {5, "inapp_inbox", kInAppInbox},
    {6, "templates", kTemplates},
    {7, "leases", kLeases},
}};

constexpr std::string_view kCreateLedger =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

bool ledger_exists(Connection& c) {
  Statement q(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  return q.step();
}

bool applied(Connection& c, int version) {
  Statement q(c, "SELECT 1 FROM schema_migrations WHERE version = ?1");
  q.bind(1, version);
  return q.step();
}

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int current_schema_version(Connection& c) {
  if (!ledger_exists(c)) return 0;
  Statement q(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return q.step() ? q.int32(0) : 0;
}

int apply_migrations(Connection& c, std::span<const Migration> steps) {
  c.exec(kCreateLedger);
  const int latest = latest_version(steps);
  const int current = current_schema_version(c);
  if (current > latest)
    throw StoreError("database schema version " + std::to_string(current) +
                     " is newer than this binary's latest " + std::to_string(latest));
  int ran = 0;
  for (const Migration& m : steps) {
    if (m.version <= current) continue;
    c.exec("BEGIN IMMEDIATE");
    try {
      if (applied(c, m.version)) {  // another process got there first
        c.exec("COMMIT");
        continue;
      }
      c.exec(m.sql);
      Statement ins(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
      ins.bind(1, m.version).bind(2, m.name).bind(3, now_ms()).run();
      c.exec("COMMIT");
      ++ran;
    } catch (const std::exception& e) {
      c.rollback_quietly();
      throw StoreError("migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                       ") failed: " + e.what());
    }
  }
  return ran;
}

}  // namespace comms::store::sqlite
