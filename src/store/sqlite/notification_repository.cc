#include <array>
#include <string>
#include <variant>

#include "common/log.h"
#include "store/sqlite/unit_of_work.h"

namespace comms::store::sqlite {
namespace {

using domain::Channel;
using domain::Notification;
using domain::Status;

// Column order shared by every statement below: parameter ?i binds column i-1,
// and SELECTs read column i-1. The last one, version, is special: INSERT binds
// the new version, UPDATE the expected one.
constexpr std::array<std::string_view, 28> kColumns{
    "id",           "event_id",          "correlation_id", "recipient_id", "channel",
    "to_address",   "template_category", "template_name",  "locale",       "personalization",
    "subject",      "content",           "status",         "priority",     "critical",
    "attempts",     "next_attempt_at",   "lease_until",    "provider",     "provider_message_id",
    "cost_micros",  "currency",          "last_error",     "created_at",   "sent_at",
    "delivered_at", "read_at",           "version"};
constexpr int kVersionParam = static_cast<int>(kColumns.size());

std::string column_list() {
  std::string s;
  for (auto c : kColumns) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

const std::string& select_prefix() {
  static const std::string sql = "SELECT " + column_list() + " FROM notifications ";
  return sql;
}

const std::string& insert_sql() {
  static const std::string sql = [] {
    std::string s = "INSERT INTO notifications (" + column_list() + ") VALUES (";
    for (std::size_t i = 1; i <= kColumns.size(); ++i) s += (i > 1 ? ", ?" : "?") + std::to_string(i);
    return s + ")";
  }();
  return sql;
}

const std::string& update_sql() {
  static const std::string sql = [] {
    std::string s = "UPDATE notifications SET ";
    for (std::size_t i = 1; i + 1 < kColumns.size(); ++i) {
      const std::string param = "?" + std::to_string(i + 1);
      // read_at only moves forward (mark_read does not bump the version).
      s += kColumns[i] == "read_at" ? "read_at = MAX(read_at, " + param + "), "
                                    : std::string(kColumns[i]) + " = " + param + ", ";
    }
    return s + "version = version + 1 WHERE id = ?1 AND version = ?" + std::to_string(kVersionParam);
  }();
  return sql;
}

void bind_fields(Statement& q, const Notification& n, std::int64_t version) {
  q.bind(1, n.id)
      .bind(2, n.event_id)
      .bind(3, n.correlation_id)
      .bind(4, n.recipient_id)
      .bind(5, domain::to_string(n.channel))
      .bind(6, n.to)
      .bind(7, n.template_category)
      .bind(8, n.template_name)
      .bind(9, n.locale)
      .bind(10, n.personalization)
      .bind(11, n.subject)
      .bind(12, n.content)
      .bind(13, domain::to_string(n.status))
      .bind(14, n.priority)
      .bind(15, n.critical)
      .bind(16, n.attempts)
      .bind(17, n.next_attempt_at)
      .bind(18, n.lease_until)
      .bind(19, n.provider)
      .bind(20, n.provider_message_id)
      .bind(21, n.cost_micros)
      .bind(22, n.currency)
      .bind(23, n.last_error)
      .bind(24, n.created_at)
      .bind(25, n.sent_at)
      .bind(26, n.delivered_at)
      .bind(27, n.read_at)
      .bind(kVersionParam, version);
}

// A row from select_prefix(). A value this binary cannot interpret is a
// StoreError naming the row, never a crash.
Notification read_row(const Statement& q) {
  Notification n;
  n.id = q.text(0);
  n.event_id = q.text(1);
  n.correlation_id = q.text(2);
  n.recipient_id = q.text(3);
  const std::string channel = q.text(4);
  const auto c = domain::parse_channel(channel);
  if (!c) throw StoreError("notification " + n.id + " has an unknown channel '" + channel + "'");
  n.channel = *c;
  n.to = q.text(5);
  n.template_category = q.text(6);
  n.template_name = q.text(7);
  n.locale = q.text(8);
  n.personalization = q.text(9);
  n.subject = q.text(10);
  n.content = q.text(11);
  const std::string status = q.text(12);
  const auto s = domain::parse_status(status);
  if (!s) throw StoreError("notification " + n.id + " has an unknown status '" + status + "'");
  n.status = *s;
  n.priority = q.int32(13);
  n.critical = q.int64(14) != 0;
  n.attempts = q.int32(15);
  n.next_attempt_at = q.int64(16);
  n.lease_until = q.int64(17);
  n.provider = q.text(18);
  n.provider_message_id = q.text(19);
  n.cost_micros = q.int64(20);
  n.currency = q.text(21);
  n.last_error = q.text(22);
  n.created_at = q.int64(23);
  n.sent_at = q.int64(24);
  n.delivered_at = q.int64(25);
  n.read_at = q.int64(26);
  n.version = q.int64(27);
  return n;
}

std::vector<Notification> read_all(Statement& q) {
  std::vector<Notification> out;
  while (q.step()) out.push_back(read_row(q));
  return out;
}

std::string status_name(Status s) {
  return std::string(domain::to_string(s));
}

}  // namespace

void SqliteNotifications::insert(Notification& n) {
  require_writable();
  Statement q(conn_, insert_sql());
  bind_fields(q, n, 1);
  q.run();
  n.version = 1;
}

std::optional<Notification> SqliteNotifications::get(const std::string& id) {
  Statement q(conn_, select_prefix() + "WHERE id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return read_row(q);
}

void SqliteNotifications::update(Notification& n) {
  require_writable();
  Statement q(conn_, update_sql());
  bind_fields(q, n, n.version);
  if (q.run() == 0)
    throw ConflictError("notification " + n.id + " is not at version " + std::to_string(n.version) +
                        " (changed or deleted by someone else)");
  ++n.version;
}

Page<Notification> SqliteNotifications::query(const NotificationQuery& f) {
  // Filters become numbered parameters; the statement text depends only on
  // which filters are present, so at most 32 variants are cached.
  std::string where;
  std::vector<std::variant<std::int64_t, std::string>> params;
  auto add = [&](std::string_view column, std::string_view op, std::variant<std::int64_t, std::string> v) {
    where += where.empty() ? "WHERE " : " AND ";
    where += std::string(column) + " " + std::string(op) + " ?" + std::to_string(params.size() + 1);
    params.push_back(std::move(v));
  };
  if (f.recipient_id) add("recipient_id", "=", *f.recipient_id);
  if (f.channel) add("channel", "=", std::string(domain::to_string(*f.channel)));
  if (f.status) add("status", "=", status_name(*f.status));
  if (f.from) add("created_at", ">=", *f.from);
  if (f.to) add("created_at", "<=", *f.to);
  auto bind_params = [&](Statement& q) {
    for (std::size_t i = 0; i < params.size(); ++i)
      std::visit([&](const auto& v) { q.bind(static_cast<int>(i + 1), v); }, params[i]);
  };

  Page<Notification> page;
  {
    Statement q(conn_, "SELECT COUNT(*) FROM notifications " + where);
    bind_params(q);
    if (q.step()) page.total = q.int64(0);
  }
  const auto [limit, offset] = page_window(f.page, f.page_size);
  const int n = static_cast<int>(params.size());
  Statement q(conn_, select_prefix() + where + " ORDER BY created_at DESC, id DESC LIMIT ?" +
                         std::to_string(n + 1) + " OFFSET ?" + std::to_string(n + 2));
  bind_params(q);
  q.bind(n + 1, limit).bind(n + 2, offset);
  page.items = read_all(q);
  return page;
}

std::vector<Notification> SqliteNotifications::claim_due(Millis now, int limit, Millis lease_ms) {
  require_writable();
  if (limit <= 0) return {};
  // Safe without row locks: the single writer runs this whole unit of work
  // inside one IMMEDIATE transaction, so no other claimant interleaves.
  // Two queries, not one with OR: each walks its partial index in claim order
  // and stops at the limit, so a claim costs O(limit) however long the backlog
  // is. Expired leases first: they are few and oldest.
  std::vector<Notification> due;
  {
    Statement q(conn_, select_prefix() +
                           "INDEXED BY notifications_leased WHERE status = 'Sending' AND lease_until < ?1 "
                           "ORDER BY priority DESC, next_attempt_at ASC LIMIT ?2");
    q.bind(1, now).bind(2, limit);
    due = read_all(q);
  }
  if (static_cast<int>(due.size()) < limit) {
    Statement q(conn_, select_prefix() + "INDEXED BY notifications_due " +
                           "WHERE status = 'Pending' AND next_attempt_at <= ?1 "
                           "ORDER BY priority DESC, next_attempt_at ASC LIMIT ?2");
    q.bind(1, now).bind(2, limit - static_cast<int>(due.size()));
    auto pending = read_all(q);
    due.insert(due.end(), std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
  }
  Statement claim(conn_,
                  "UPDATE notifications SET status = 'Sending', lease_until = ?1, version = version + 1 "
                  "WHERE id = ?2 AND version = ?3");
  for (Notification& n : due) {
    const Millis lease_until = now + lease_ms;
    claim.bind(1, lease_until).bind(2, n.id).bind(3, n.version);
    if (claim.run() != 1)
      throw StoreError("claim_due: notification " + n.id + " changed while being claimed");
    claim.reset();
    n.status = Status::sending;
    n.lease_until = lease_until;
    ++n.version;
  }
  return due;
}

int SqliteNotifications::release_all_claims() {
  require_writable();
  Statement q(conn_,
              "UPDATE notifications SET status = 'Pending', lease_until = 0, version = version + 1 "
              "WHERE status = 'Sending'");
  return q.run();
}

std::optional<Notification> SqliteNotifications::find_by_provider_message_id(const std::string& provider,
                                                                             const std::string& message_id) {
  if (message_id.empty()) return std::nullopt;  // unsent rows all have an empty id
  Statement q(conn_, select_prefix() +
                         "WHERE provider = ?1 AND provider_message_id = ?2 AND provider_message_id <> '' LIMIT 1");
  q.bind(1, provider).bind(2, message_id);
  if (!q.step()) return std::nullopt;
  return read_row(q);
}

std::int64_t SqliteNotifications::count_due(Millis now) {
  Statement q(conn_, "SELECT COUNT(*) FROM notifications WHERE status = 'Pending' AND next_attempt_at <= ?1");
  q.bind(1, now);
  return q.step() ? q.int64(0) : 0;
}

std::map<std::pair<Channel, Status>, std::int64_t> SqliteNotifications::count_by_channel_status() {
  Statement q(conn_, "SELECT channel, status, COUNT(*) FROM notifications GROUP BY channel, status");
  std::map<std::pair<Channel, Status>, std::int64_t> out;
  while (q.step()) {
    const std::string channel = q.text(0);
    const std::string status = q.text(1);
    const auto c = domain::parse_channel(channel);
    const auto s = domain::parse_status(status);
    if (!c || !s) {
      // Metrics must keep working; the bad rows surface when read individually.
      log::warn("store_unknown_channel_status", {{"channel", channel}, {"status", status}});
      continue;
    }
    out[{*c, *s}] += q.int64(2);
  }
  return out;
}

std::optional<Millis> SqliteNotifications::next_due_at() {
  Statement q(conn_, "SELECT MIN(next_attempt_at) FROM notifications WHERE status = 'Pending'");
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return q.int64(0);
}

InboxPage SqliteNotifications::inbox(const InboxQuery& f) {
  // Both statements walk a partial index of in-app rows (migration 5): the whole inbox, or only
  // its unread rows.
  constexpr std::string_view kInbox =
      "WHERE recipient_id = ?1 AND channel = 'inapp' AND status IN ('Sent', 'Delivered') ";
  constexpr std::string_view kUnread = "AND read_at = 0 ";
  InboxPage page;
  {
    Statement q(conn_, "SELECT COUNT(*) FROM notifications " + std::string(kInbox) + std::string(kUnread));
    q.bind(1, f.recipient_id);
    if (q.step()) page.unread = q.int64(0);
  }
  const std::string where = std::string(kInbox) + (f.unread_only ? std::string(kUnread) : "");
  if (f.unread_only) {
    page.total = page.unread;
  } else {
    Statement q(conn_, "SELECT COUNT(*) FROM notifications " + where);
    q.bind(1, f.recipient_id);
    if (q.step()) page.total = q.int64(0);
  }
  const auto [limit, offset] = page_window(f.page, f.page_size);
  Statement q(conn_, select_prefix() + where + "ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3");
  q.bind(1, f.recipient_id).bind(2, limit).bind(3, offset);
  page.items = read_all(q);
  return page;
}

bool SqliteNotifications::mark_read(const std::string& id, Millis at) {
  require_writable();
  Statement q(conn_,
              "UPDATE notifications SET read_at = ?2 WHERE id = ?1 AND channel = 'inapp' AND read_at = 0");
  q.bind(1, id).bind(2, at);
  return q.run() == 1;
}

}  // namespace comms::store::sqlite
