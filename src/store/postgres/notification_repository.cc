#include <algorithm>
#include <array>
#include <string>
#include <variant>

#include "common/log.h"
#include "store/postgres/unit_of_work.h"

namespace comms::store::postgres {
namespace {

using domain::Channel;
using domain::Notification;
using domain::Status;

// Column order shared by every statement below: parameter $i binds column i-1,
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

std::string column_list(std::string_view prefix = "") {
  std::string s;
  for (auto c : kColumns) {
    if (!s.empty()) s += ", ";
    s += std::string(prefix) + std::string(c);
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
    for (std::size_t i = 1; i <= kColumns.size(); ++i) s += (i > 1 ? ", $" : "$") + std::to_string(i);
    return s + ")";
  }();
  return sql;
}

const std::string& update_sql() {
  static const std::string sql = [] {
    std::string s = "UPDATE notifications SET ";
    for (std::size_t i = 1; i + 1 < kColumns.size(); ++i) {
      const std::string param = "$" + std::to_string(i + 1);
      // read_at only moves forward (mark_read does not bump the version).
      s += kColumns[i] == "read_at" ? "read_at = GREATEST(read_at, " + param + "), "
                                    : std::string(kColumns[i]) + " = " + param + ", ";
    }
    return s + "version = version + 1 WHERE id = $1 AND version = $" + std::to_string(kVersionParam);
  }();
  return sql;
}

Params fields(const Notification& n, std::int64_t version) {
  Params p;
  p.add(n.id)
      .add(n.event_id)
      .add(n.correlation_id)
      .add(n.recipient_id)
      .add(domain::to_string(n.channel))
      .add(n.to)
      .add(n.template_category)
      .add(n.template_name)
      .add(n.locale)
      .add(n.personalization)
      .add(n.subject)
      .add(n.content)
      .add(domain::to_string(n.status))
      .add(n.priority)
      .add(n.critical)
      .add(n.attempts)
      .add(n.next_attempt_at)
      .add(n.lease_until)
      .add(n.provider)
      .add(n.provider_message_id)
      .add(n.cost_micros)
      .add(n.currency)
      .add(n.last_error)
      .add(n.created_at)
      .add(n.sent_at)
      .add(n.delivered_at)
      .add(n.read_at)
      .add(version);
  return p;
}

// Row `i` of a result with kColumns. A value this binary cannot interpret is a
// StoreError naming the row, never a crash.
Notification read_row(const Result& r, int i) {
  Notification n;
  n.id = r.text(i, 0);
  n.event_id = r.text(i, 1);
  n.correlation_id = r.text(i, 2);
  n.recipient_id = r.text(i, 3);
  const std::string channel = r.text(i, 4);
  const auto c = domain::parse_channel(channel);
  if (!c) throw StoreError("notification " + n.id + " has an unknown channel '" + channel + "'");
  n.channel = *c;
  n.to = r.text(i, 5);
  n.template_category = r.text(i, 6);
  n.template_name = r.text(i, 7);
  n.locale = r.text(i, 8);
  n.personalization = r.text(i, 9);
  n.subject = r.text(i, 10);
  n.content = r.text(i, 11);
  const std::string status = r.text(i, 12);
  const auto s = domain::parse_status(status);
  if (!s) throw StoreError("notification " + n.id + " has an unknown status '" + status + "'");
  n.status = *s;
  n.priority = r.int32(i, 13);
  n.critical = r.int64(i, 14) != 0;
  n.attempts = r.int32(i, 15);
  n.next_attempt_at = r.int64(i, 16);
  n.lease_until = r.int64(i, 17);
  n.provider = r.text(i, 18);
  n.provider_message_id = r.text(i, 19);
  n.cost_micros = r.int64(i, 20);
  n.currency = r.text(i, 21);
  n.last_error = r.text(i, 22);
  n.created_at = r.int64(i, 23);
  n.sent_at = r.int64(i, 24);
  n.delivered_at = r.int64(i, 25);
  n.read_at = r.int64(i, 26);
  n.version = r.int64(i, 27);
  return n;
}

std::vector<Notification> read_all(const Result& r) {
  std::vector<Notification> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_row(r, i));
  return out;
}

// Claims up to $3 rows matching `due` ($1 = now) for $2 = lease_until. The
// rows are picked and locked in claim order by a subquery that skips rows
// another transaction holds, so concurrent claimants (other processes
// included) never receive the same row and never wait for each other.
std::string claim_sql(std::string_view due) {
  return "WITH picked AS MATERIALIZED (SELECT id FROM notifications WHERE " + std::string(due) +
         " ORDER BY priority DESC, next_attempt_at ASC LIMIT $3 FOR UPDATE SKIP LOCKED) "
         "UPDATE notifications n SET status = 'Sending', lease_until = $2, version = n.version + 1 "
         "FROM picked WHERE n.id = picked.id RETURNING " +
         column_list("n.");
}

}  // namespace

void PgNotifications::insert(Notification& n) {
  require_writable();
  conn_.send(insert_sql(), fields(n, 1));
  n.version = 1;
}

std::optional<Notification> PgNotifications::get(const std::string& id) {
  const Result r = conn_.query(select_prefix() + "WHERE id = $1", Params().add(id));
  if (r.empty()) return std::nullopt;
  return read_row(r, 0);
}

void PgNotifications::update(Notification& n) {
  require_writable();
  if (conn_.query(update_sql(), fields(n, n.version)).affected() == 0)
    throw ConflictError("notification " + n.id + " is not at version " + std::to_string(n.version) +
                        " (changed or deleted by someone else)");
  ++n.version;
}

Page<Notification> PgNotifications::query(const NotificationQuery& f) {
  // Filters become numbered parameters; the statement text depends only on
  // which filters are present, so at most 32 variants are prepared.
  std::string where;
  Params params;
  auto add = [&](std::string_view column, std::string_view op, std::variant<std::int64_t, std::string> v) {
    where += where.empty() ? "WHERE " : " AND ";
    where += std::string(column) + " " + std::string(op) + " $" + std::to_string(params.size() + 1);
    std::visit([&](const auto& x) { params.add(x); }, v);
  };
  if (f.recipient_id) add("recipient_id", "=", *f.recipient_id);
  if (f.channel) add("channel", "=", std::string(domain::to_string(*f.channel)));
  if (f.status) add("status", "=", std::string(domain::to_string(*f.status)));
  if (f.from) add("created_at", ">=", *f.from);
  if (f.to) add("created_at", "<=", *f.to);

  Page<Notification> page;
  const auto [limit, offset] = page_window(f.page, f.page_size);
  const int n = params.size();
  page.total = conn_.query("SELECT COUNT(*) FROM notifications " + where, params).int64(0, 0);
  params.add(limit).add(offset);
  page.items = read_all(conn_.query(select_prefix() + where + " ORDER BY created_at DESC, id DESC LIMIT $" +
                                        std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2),
                                    params));
  return page;
}

std::vector<Notification> PgNotifications::claim_due(Millis now, int limit, Millis lease_ms) {
  require_writable();
  if (limit <= 0) return {};
  // Expired leases first (they are few and oldest), then due Pending rows; each
  // statement walks its partial index and stops at the limit.
  const Millis lease_until = now + lease_ms;
  auto by_claim_order = [](std::vector<Notification> rows) {
    std::stable_sort(rows.begin(), rows.end(), [](const Notification& a, const Notification& b) {
      if (a.priority != b.priority) return a.priority > b.priority;
      return a.next_attempt_at < b.next_attempt_at;
    });
    return rows;
  };
  static const std::string leased = claim_sql("status = 'Sending' AND lease_until < $1");
  static const std::string pending = claim_sql("status = 'Pending' AND next_attempt_at <= $1");
  std::vector<Notification> due =
      by_claim_order(read_all(conn_.query(leased, Params().add(now).add(lease_until).add(limit))));
  if (static_cast<int>(due.size()) < limit) {
    auto more = by_claim_order(read_all(
        conn_.query(pending, Params().add(now).add(lease_until).add(limit - static_cast<int>(due.size())))));
    due.insert(due.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return due;
}

int PgNotifications::release_all_claims() {
  require_writable();
  // Several instances share this table: a Sending row may be another live
  // instance's in-flight send. Leases expire on their own (claim_due takes
  // them back), so start-up releases nothing here.
  return 0;
}

std::optional<Notification> PgNotifications::find_by_provider_message_id(const std::string& provider,
                                                                         const std::string& message_id) {
  if (message_id.empty()) return std::nullopt;  // unsent rows all have an empty id
  const Result r = conn_.query(
      select_prefix() +
          "WHERE provider = $1 AND provider_message_id = $2 AND provider_message_id <> '' LIMIT 1",
      Params().add(provider).add(message_id));
  if (r.empty()) return std::nullopt;
  return read_row(r, 0);
}

std::int64_t PgNotifications::count_due(Millis now) {
  return conn_
      .query("SELECT COUNT(*) FROM notifications WHERE status = 'Pending' AND next_attempt_at <= $1",
             Params().add(now))
      .int64(0, 0);
}

std::map<std::pair<Channel, Status>, std::int64_t> PgNotifications::count_by_channel_status() {
  const Result r =
      conn_.query("SELECT channel, status, COUNT(*) FROM notifications GROUP BY channel, status");
  std::map<std::pair<Channel, Status>, std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) {
    const std::string channel = r.text(i, 0);
    const std::string status = r.text(i, 1);
    const auto c = domain::parse_channel(channel);
    const auto s = domain::parse_status(status);
    if (!c || !s) {
      // Metrics must keep working; the bad rows surface when read individually.
      log::warn("store_unknown_channel_status", {{"channel", channel}, {"status", status}});
      continue;
    }
    out[{*c, *s}] += r.int64(i, 2);
  }
  return out;
}

std::optional<Millis> PgNotifications::next_due_at() {
  const Result r = conn_.query("SELECT MIN(next_attempt_at) FROM notifications WHERE status = 'Pending'");
  if (r.is_null(0, 0)) return std::nullopt;
  return r.int64(0, 0);
}

InboxPage PgNotifications::inbox(const InboxQuery& f) {
  // Both counts walk a partial index of in-app rows (migration 5): the whole
  // inbox, or only its unread rows.
  constexpr std::string_view kInbox =
      "WHERE recipient_id = $1 AND channel = 'inapp' AND status IN ('Sent', 'Delivered') ";
  constexpr std::string_view kUnread = "AND read_at = 0 ";
  const std::string where = std::string(kInbox) + (f.unread_only ? std::string(kUnread) : "");
  const auto [limit, offset] = page_window(f.page, f.page_size);
  InboxPage page;
  page.items =
      read_all(conn_.query(select_prefix() + where + "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                           Params().add(f.recipient_id).add(limit).add(offset)));
  const Result counts = conn_.query(
      "SELECT COUNT(*), COUNT(*) FILTER (WHERE read_at = 0) FROM notifications " + std::string(kInbox),
      Params().add(f.recipient_id));
  page.unread = counts.int64(0, 1);
  page.total = f.unread_only ? page.unread : counts.int64(0, 0);
  return page;
}

bool PgNotifications::mark_read(const std::string& id, Millis at) {
  require_writable();
  return conn_
             .query(
                 "UPDATE notifications SET read_at = $2 WHERE id = $1 AND channel = 'inapp' AND read_at = 0",
                 Params().add(id).add(at))
             .affected() == 1;
}

}  // namespace comms::store::postgres
