// Recipients, processed events, outbox, idempotency keys and the dev inbox.
#include <algorithm>

#include "store/postgres/unit_of_work.h"
#include "store/sql_text.h"

namespace comms::store::postgres {

void RepositoryBase::require_writable() const {
  if (!writable_) throw StoreError("read-only");
}

std::pair<std::int64_t, std::int64_t> page_window(int page, int page_size) {
  constexpr int kMaxPageSize = 1000;
  const std::int64_t size = std::clamp(page_size, 1, kMaxPageSize);
  return {size, (std::max(page, 1) - std::int64_t{1}) * size};
}

std::optional<domain::Recipient> PgRecipients::get(const std::string& id) {
  const Result r = conn_.query(
      "SELECT id, name, phone, email, language, timezone, branch_id, updated_at, version "
      "FROM recipients WHERE id = $1",
      Params().add(id));
  if (r.empty()) return std::nullopt;
  return domain::Recipient{.id = r.text(0, 0),
                           .name = r.text(0, 1),
                           .phone = r.text(0, 2),
                           .email = r.text(0, 3),
                           .language = r.text(0, 4),
                           .timezone = r.text(0, 5),
                           .branch_id = r.text(0, 6),
                           .updated_at = r.int64(0, 7),
                           .version = r.int64(0, 8)};
}

void PgRecipients::upsert(domain::Recipient& r) {
  require_writable();
  const bool checked = r.version > 0;
  Params p;
  p.add(r.id).add(r.name).add(r.phone).add(r.email).add(r.language).add(r.timezone).add(r.branch_id);
  p.add(r.updated_at);
  if (checked) p.add(r.version);
  const Result res = conn_.query(
      checked ? "UPDATE recipients SET name = $2, phone = $3, email = $4, language = $5, timezone = $6, "
                "branch_id = $7, updated_at = $8, version = version + 1 WHERE id = $1 AND version = $9 "
                "RETURNING version"
              : "INSERT INTO recipients (id, name, phone, email, language, timezone, branch_id, updated_at, "
                "version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) ON CONFLICT (id) DO UPDATE SET "
                "name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, "
                "language = EXCLUDED.language, timezone = EXCLUDED.timezone, branch_id = EXCLUDED.branch_id, "
                "updated_at = EXCLUDED.updated_at, version = recipients.version + 1 RETURNING version",
      p);
  if (res.empty())
    throw ConflictError("recipient " + r.id + " is not at version " + std::to_string(r.version) +
                        " (changed by someone else, or missing)");
  r.version = res.int64(0, 0);
}

bool PgProcessedEvents::add(const std::string& event_id, const std::string& event_type, Millis at) {
  require_writable();
  return conn_
             .query(
                 "INSERT INTO processed_events (event_id, event_type, processed_at) VALUES ($1, $2, $3) "
                 "ON CONFLICT (event_id) DO NOTHING",
                 Params().add(event_id).add(event_type).add(at))
             .affected() == 1;
}

bool PgProcessedEvents::exists(const std::string& event_id) {
  return !conn_.query("SELECT 1 FROM processed_events WHERE event_id = $1", Params().add(event_id)).empty();
}

void PgOutbox::add(OutboxMessage& m) {
  require_writable();
  Params p;
  p.add(m.id).add(m.message_type).add(m.payload).add(m.correlation_id).add(m.created_at);
  if (m.published_at != 0)
    p.add(m.published_at);
  else
    p.add_null();
  p.add(m.attempts).add(m.last_error);
  const Result r = conn_.query(
      "INSERT INTO outbox (id, message_type, payload, correlation_id, created_at, published_at, attempts, "
      "last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
      p);
  if (r.empty()) throw StoreError("outbox insert returned no sequence number");
  m.seq = r.int64(0, 0);
}

std::vector<OutboxMessage> PgOutbox::pending(int limit) {
  if (limit <= 0) return {};
  const Result r = conn_.query(
      "SELECT seq, id, message_type, payload, correlation_id, created_at, attempts, last_error "
      "FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
      Params().add(limit));
  std::vector<OutboxMessage> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.seq = r.int64(i, 0),
                   .id = r.text(i, 1),
                   .message_type = r.text(i, 2),
                   .payload = r.text(i, 3),
                   .correlation_id = r.text(i, 4),
                   .created_at = r.int64(i, 5),
                   .attempts = r.int32(i, 6),
                   .last_error = r.text(i, 7)});
  return out;
}

void PgOutbox::mark_published(std::span<const std::int64_t> seqs, Millis at) {
  require_writable();
  if (seqs.empty()) return;
  // The relay's whole round in one statement (was one UPDATE per row): an array literal "{1,2,3}".
  conn_.send("UPDATE outbox SET published_at = $2 WHERE seq = ANY($1::bigint[])",
             Params().add(integer_list(seqs, '{', '}')).add(at));
}

void PgOutbox::mark_failed(std::int64_t seq, const std::string& error) {
  require_writable();
  conn_.send("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = $1",
             Params().add(seq).add(error));
}

bool PgOutbox::acquire_relay_lease(const std::string& holder, Millis now, Millis expires_at) {
  require_writable();
  // Under READ COMMITTED a concurrent claimant waits for the row lock, then re-checks the WHERE
  // against the committed row: exactly one of two racing instances gets it.
  return !conn_
              .query(
                  "INSERT INTO leases (name, holder, expires_at) VALUES ('outbox-relay', $1, $2) "
                  "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = "
                  "excluded.expires_at "
                  "WHERE leases.holder = excluded.holder OR leases.expires_at < $3 RETURNING holder",
                  Params().add(holder).add(expires_at).add(now))
              .empty();
}

std::optional<IdempotencyRecord> PgIdempotency::get(const std::string& principal, const std::string& key) {
  const Result r = conn_.query(
      "SELECT key, principal, request_hash, notification_id, created_at FROM idempotency_keys "
      "WHERE principal = $1 AND key = $2",
      Params().add(principal).add(key));
  if (r.empty()) return std::nullopt;
  return IdempotencyRecord{r.text(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3), r.int64(0, 4)};
}

void PgIdempotency::put(const IdempotencyRecord& r) {
  require_writable();
  conn_.send(
      "INSERT INTO idempotency_keys (principal, key, request_hash, notification_id, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      Params().add(r.principal).add(r.key).add(r.request_hash).add(r.notification_id).add(r.created_at));
}

bool PgDevInbox::add(DevMessage& m) {
  require_writable();
  const Result r = conn_.query(
      "INSERT INTO dev_inbox (notification_id, channel, to_address, subject, body, captured_at) "
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (notification_id) DO NOTHING RETURNING seq",
      Params()
          .add(m.notification_id)
          .add(domain::to_string(m.channel))
          .add(m.to)
          .add(m.subject)
          .add(m.body)
          .add(m.captured_at));
  if (r.empty()) return false;
  m.seq = r.int64(0, 0);
  return true;
}

Page<DevMessage> PgDevInbox::list(int page, int page_size) {
  Page<DevMessage> out;
  out.total = conn_.query("SELECT COUNT(*) FROM dev_inbox").int64(0, 0);
  const auto [limit, offset] = page_window(page, page_size);
  const Result r = conn_.query(
      "SELECT seq, notification_id, channel, to_address, subject, body, captured_at FROM dev_inbox "
      "ORDER BY seq DESC LIMIT $1 OFFSET $2",
      Params().add(limit).add(offset));
  for (int i = 0; i < r.rows(); ++i) {
    const std::string channel = r.text(i, 2);
    const auto c = domain::parse_channel(channel);
    if (!c)
      throw StoreError("dev inbox message " + r.text(i, 0) + " has an unknown channel '" + channel + "'");
    out.items.push_back({.seq = r.int64(i, 0),
                         .notification_id = r.text(i, 1),
                         .channel = *c,
                         .to = r.text(i, 3),
                         .subject = r.text(i, 4),
                         .body = r.text(i, 5),
                         .captured_at = r.int64(i, 6)});
  }
  return out;
}

}  // namespace comms::store::postgres
