// Recipients, processed events, outbox, idempotency keys and the dev inbox.
#include <algorithm>

#include "store/sql_text.h"
#include "store/sqlite/unit_of_work.h"

namespace comms::store::sqlite {

void RepositoryBase::require_writable() const {
  if (!writable_) throw StoreError("read-only");
  // After an error that made SQLite roll the whole transaction back, a unit
  // that caught it must not go on writing in autocommit mode.
  if (!conn_.in_transaction()) throw StoreError("the transaction was rolled back by an earlier error");
}

std::pair<std::int64_t, std::int64_t> page_window(int page, int page_size) {
  constexpr int kMaxPageSize = 1000;
  const std::int64_t size = std::clamp(page_size, 1, kMaxPageSize);
  const std::int64_t number = std::max(page, 1);
  return {size, (number - 1) * size};
}

std::optional<domain::Recipient> SqliteRecipients::get(const std::string& id) {
  Statement q(conn_,
              "SELECT id, name, phone, email, language, timezone, branch_id, updated_at, version "
              "FROM recipients WHERE id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  domain::Recipient r;
  r.id = q.text(0);
  r.name = q.text(1);
  r.phone = q.text(2);
  r.email = q.text(3);
  r.language = q.text(4);
  r.timezone = q.text(5);
  r.branch_id = q.text(6);
  r.updated_at = q.int64(7);
  r.version = q.int64(8);
  return r;
}

void SqliteRecipients::upsert(domain::Recipient& r) {
  require_writable();
  const bool checked = r.version > 0;
  Statement q(conn_, checked ? "UPDATE recipients SET name = ?2, phone = ?3, email = ?4, language = ?5, "
                               "timezone = ?6, branch_id = ?7, updated_at = ?8, version = version + 1 "
                               "WHERE id = ?1 AND version = ?9 RETURNING version"
                             : "INSERT INTO recipients "
                               "(id, name, phone, email, language, timezone, branch_id, updated_at, version) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1) "
                               "ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone, "
                               "email = excluded.email, language = excluded.language, "
                               "timezone = excluded.timezone, branch_id = excluded.branch_id, "
                               "updated_at = excluded.updated_at, version = recipients.version + 1 "
                               "RETURNING version");
  q.bind(1, r.id)
      .bind(2, r.name)
      .bind(3, r.phone)
      .bind(4, r.email)
      .bind(5, r.language)
      .bind(6, r.timezone)
      .bind(7, r.branch_id)
      .bind(8, r.updated_at);
  if (checked) q.bind(9, r.version);
  if (!q.step())
    throw ConflictError("recipient " + r.id + " is not at version " + std::to_string(r.version) +
                        " (changed by someone else, or missing)");
  const std::int64_t version = q.int64(0);
  q.run();  // finish the statement so the change is complete before returning
  r.version = version;
}

bool SqliteProcessedEvents::add(const std::string& event_id, const std::string& event_type, Millis at) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO processed_events (event_id, event_type, processed_at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (event_id) DO NOTHING");
  q.bind(1, event_id).bind(2, event_type).bind(3, at);
  return q.run() == 1;
}

bool SqliteProcessedEvents::exists(const std::string& event_id) {
  Statement q(conn_, "SELECT 1 FROM processed_events WHERE event_id = ?1");
  q.bind(1, event_id);
  return q.step();
}

void SqliteOutbox::add(OutboxMessage& m) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO outbox (id, message_type, payload, correlation_id, created_at, published_at, "
              "attempts, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING seq");
  q.bind(1, m.id).bind(2, m.message_type).bind(3, m.payload).bind(4, m.correlation_id).bind(5, m.created_at);
  if (m.published_at != 0)
    q.bind(6, m.published_at);
  else
    q.bind_null(6);
  q.bind(7, m.attempts).bind(8, m.last_error);
  if (!q.step()) throw StoreError("outbox insert returned no sequence number");
  const std::int64_t seq = q.int64(0);
  q.run();
  m.seq = seq;
}

std::vector<OutboxMessage> SqliteOutbox::pending(int limit) {
  if (limit <= 0) return {};
  Statement q(conn_,
              "SELECT seq, id, message_type, payload, correlation_id, created_at, attempts, last_error "
              "FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1");
  q.bind(1, limit);
  std::vector<OutboxMessage> out;
  while (q.step()) {
    OutboxMessage m;
    m.seq = q.int64(0);
    m.id = q.text(1);
    m.message_type = q.text(2);
    m.payload = q.text(3);
    m.correlation_id = q.text(4);
    m.created_at = q.int64(5);
    m.attempts = q.int32(6);
    m.last_error = q.text(7);
    out.push_back(std::move(m));
  }
  return out;
}

void SqliteOutbox::mark_published(std::span<const std::int64_t> seqs, Millis at) {
  require_writable();
  if (seqs.empty()) return;
  // The relay's whole round in one statement: the numbers travel as one JSON array.
  Statement q(conn_, "UPDATE outbox SET published_at = ?2 WHERE seq IN (SELECT value FROM json_each(?1))");
  q.bind(1, integer_list(seqs, '[', ']')).bind(2, at).run();
}

void SqliteOutbox::mark_failed(std::int64_t seq, const std::string& error) {
  require_writable();
  Statement q(conn_, "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1");
  q.bind(1, seq).bind(2, error).run();
}

bool SqliteOutbox::acquire_relay_lease(const std::string& holder, Millis now, Millis expires_at) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO leases (name, holder, expires_at) VALUES ('outbox-relay', ?1, ?2) "
              "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
              "WHERE leases.holder = excluded.holder OR leases.expires_at < ?3 RETURNING holder");
  q.bind(1, holder).bind(2, expires_at).bind(3, now);
  return q.step();
}

std::optional<IdempotencyRecord> SqliteIdempotency::get(const std::string& principal,
                                                        const std::string& key) {
  Statement q(conn_,
              "SELECT key, principal, request_hash, notification_id, created_at FROM idempotency_keys "
              "WHERE principal = ?1 AND key = ?2");
  q.bind(1, principal).bind(2, key);
  if (!q.step()) return std::nullopt;
  return IdempotencyRecord{q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4)};
}

void SqliteIdempotency::put(const IdempotencyRecord& r) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO idempotency_keys (principal, key, request_hash, notification_id, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  q.bind(1, r.principal)
      .bind(2, r.key)
      .bind(3, r.request_hash)
      .bind(4, r.notification_id)
      .bind(5, r.created_at);
  q.run();
}

bool SqliteDevInbox::add(DevMessage& m) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO dev_inbox (notification_id, channel, to_address, subject, body, captured_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (notification_id) DO NOTHING RETURNING seq");
  q.bind(1, m.notification_id)
      .bind(2, domain::to_string(m.channel))
      .bind(3, m.to)
      .bind(4, m.subject)
      .bind(5, m.body)
      .bind(6, m.captured_at);
  if (!q.step()) return false;
  const std::int64_t seq = q.int64(0);
  q.run();
  m.seq = seq;
  return true;
}

Page<DevMessage> SqliteDevInbox::list(int page, int page_size) {
  Page<DevMessage> out;
  {
    Statement q(conn_, "SELECT COUNT(*) FROM dev_inbox");
    if (q.step()) out.total = q.int64(0);
  }
  const auto [limit, offset] = page_window(page, page_size);
  Statement q(conn_,
              "SELECT seq, notification_id, channel, to_address, subject, body, captured_at FROM dev_inbox "
              "ORDER BY seq DESC LIMIT ?1 OFFSET ?2");
  q.bind(1, limit).bind(2, offset);
  while (q.step()) {
    DevMessage m;
    m.seq = q.int64(0);
    m.notification_id = q.text(1);
    const std::string channel = q.text(2);
    const auto c = domain::parse_channel(channel);
    if (!c)
      throw StoreError("dev inbox message " + std::to_string(m.seq) + " has an unknown channel '" + channel +
                       "'");
    m.channel = *c;
    m.to = q.text(3);
    m.subject = q.text(4);
    m.body = q.text(5);
    m.captured_at = q.int64(6);
    out.items.push_back(std::move(m));
  }
  return out;
}

}  // namespace comms::store::sqlite
