// Recipient preferences and saga instances (issue 4).
#include <string>
#include <vector>

#include "store/sqlite/unit_of_work.h"

namespace comms::store::sqlite {
namespace {

// Lists are stored comma-separated; their items never contain commas
// (store.h: lower-case names).
std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ',';
    out += i;
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr std::string_view kWorkflowColumns =
    "correlation_id, workflow, current_state, event_id, event_type, event_payload, flags, steps, wake_at, "
    "created_at, updated_at, completed_at, version";

WorkflowInstance read_instance(const Statement& q) {
  WorkflowInstance w;
  w.correlation_id = q.text(0);
  w.workflow = q.text(1);
  w.current_state = q.text(2);
  w.event_id = q.text(3);
  w.event_type = q.text(4);
  w.event_payload = q.text(5);
  w.flags = q.text(6);
  w.steps = q.text(7);
  w.wake_at = q.int64(8);
  w.created_at = q.int64(9);
  w.updated_at = q.int64(10);
  w.completed_at = q.int64(11);
  w.version = q.int64(12);
  return w;
}

// Binds ?1..?12 in kWorkflowColumns order (all but version).
void bind_instance(Statement& q, const WorkflowInstance& w) {
  q.bind(1, w.correlation_id)
      .bind(2, w.workflow)
      .bind(3, w.current_state)
      .bind(4, w.event_id)
      .bind(5, w.event_type)
      .bind(6, w.event_payload)
      .bind(7, w.flags)
      .bind(8, w.steps)
      .bind(9, w.wake_at)
      .bind(10, w.created_at)
      .bind(11, w.updated_at)
      .bind(12, w.completed_at);
}

}  // namespace

std::optional<RecipientPreferences> SqlitePreferences::get(const std::string& recipient_id) {
  Statement q(
      conn_,
      "SELECT recipient_id, opted_out_channels, opted_out_categories, quiet_start, quiet_end, timezone, "
      "language, updated_at, version FROM recipient_preferences WHERE recipient_id = ?1");
  q.bind(1, recipient_id);
  if (!q.step()) return std::nullopt;
  RecipientPreferences p;
  p.recipient_id = q.text(0);
  p.opted_out_channels = split_list(q.text(1));
  p.opted_out_categories = split_list(q.text(2));
  p.quiet_start = q.text(3);
  p.quiet_end = q.text(4);
  p.timezone = q.text(5);
  p.language = q.text(6);
  p.updated_at = q.int64(7);
  p.version = q.int64(8);
  return p;
}

void SqlitePreferences::upsert(RecipientPreferences& p) {
  require_writable();
  const bool checked = p.version > 0;
  Statement q(conn_,
              checked
                  ? "UPDATE recipient_preferences SET opted_out_channels = ?2, opted_out_categories = ?3, "
                    "quiet_start = ?4, quiet_end = ?5, timezone = ?6, language = ?7, updated_at = ?8, "
                    "version = version + 1 WHERE recipient_id = ?1 AND version = ?9 RETURNING version"
                  : "INSERT INTO recipient_preferences (recipient_id, opted_out_channels, "
                    "opted_out_categories, quiet_start, quiet_end, timezone, language, updated_at, version) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1) ON CONFLICT (recipient_id) DO UPDATE SET "
                    "opted_out_channels = excluded.opted_out_channels, "
                    "opted_out_categories = excluded.opted_out_categories, "
                    "quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, "
                    "timezone = excluded.timezone, language = excluded.language, "
                    "updated_at = excluded.updated_at, version = recipient_preferences.version + 1 "
                    "RETURNING version");
  q.bind(1, p.recipient_id)
      .bind(2, join_list(p.opted_out_channels))
      .bind(3, join_list(p.opted_out_categories))
      .bind(4, p.quiet_start)
      .bind(5, p.quiet_end)
      .bind(6, p.timezone)
      .bind(7, p.language)
      .bind(8, p.updated_at);
  if (checked) q.bind(9, p.version);
  if (!q.step())
    throw ConflictError("preferences of " + p.recipient_id + " are not at version " +
                        std::to_string(p.version) + " (changed by someone else, or missing)");
  const std::int64_t version = q.int64(0);
  q.run();
  p.version = version;
}

void SqliteWorkflows::insert(WorkflowInstance& w) {
  require_writable();
  Statement q(conn_, "INSERT INTO workflow_instances (" + std::string(kWorkflowColumns) +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1)");
  bind_instance(q, w);
  q.run();
  w.version = 1;
}

std::optional<WorkflowInstance> SqliteWorkflows::get(const std::string& correlation_id) {
  Statement q(conn_, "SELECT " + std::string(kWorkflowColumns) +
                         " FROM workflow_instances WHERE correlation_id = ?1");
  q.bind(1, correlation_id);
  if (!q.step()) return std::nullopt;
  return read_instance(q);
}

void SqliteWorkflows::update(WorkflowInstance& w) {
  require_writable();
  Statement q(
      conn_,
      "UPDATE workflow_instances SET workflow = ?2, current_state = ?3, event_id = ?4, event_type = ?5, "
      "event_payload = ?6, flags = ?7, steps = ?8, wake_at = ?9, created_at = ?10, updated_at = ?11, "
      "completed_at = ?12, version = version + 1 WHERE correlation_id = ?1 AND version = ?13");
  bind_instance(q, w);
  q.bind(13, w.version);
  if (q.run() == 0)
    throw ConflictError("workflow " + w.correlation_id + " is not at version " + std::to_string(w.version) +
                        " (changed by someone else, or missing)");
  ++w.version;
}

std::vector<WorkflowInstance> SqliteWorkflows::due(Millis now, int limit) {
  if (limit <= 0) return {};
  Statement q(conn_, "SELECT " + std::string(kWorkflowColumns) +
                         " FROM workflow_instances WHERE wake_at > 0 AND wake_at <= ?1 "
                         "ORDER BY wake_at, correlation_id LIMIT ?2");
  q.bind(1, now).bind(2, limit);
  std::vector<WorkflowInstance> out;
  while (q.step()) out.push_back(read_instance(q));
  return out;
}

std::optional<Millis> SqliteWorkflows::next_wake_at() {
  Statement q(conn_, "SELECT MIN(wake_at) FROM workflow_instances WHERE wake_at > 0");
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return q.int64(0);
}

void SqliteWorkflows::add_history(WorkflowHistoryEntry& e) {
  require_writable();
  Statement q(conn_,
              "INSERT INTO workflow_history (correlation_id, at, from_state, to_state, cause, detail) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq");
  q.bind(1, e.correlation_id).bind(2, e.at).bind(3, e.from_state).bind(4, e.to_state).bind(5, e.cause);
  q.bind(6, e.detail);
  if (!q.step()) throw StoreError("workflow history insert returned no sequence number");
  const std::int64_t seq = q.int64(0);
  q.run();
  e.seq = seq;
}

std::vector<WorkflowHistoryEntry> SqliteWorkflows::history(const std::string& correlation_id) {
  Statement q(conn_,
              "SELECT seq, correlation_id, at, from_state, to_state, cause, detail FROM workflow_history "
              "WHERE correlation_id = ?1 ORDER BY seq");
  q.bind(1, correlation_id);
  std::vector<WorkflowHistoryEntry> out;
  while (q.step()) {
    WorkflowHistoryEntry e;
    e.seq = q.int64(0);
    e.correlation_id = q.text(1);
    e.at = q.int64(2);
    e.from_state = q.text(3);
    e.to_state = q.text(4);
    e.cause = q.text(5);
    e.detail = q.text(6);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace comms::store::sqlite
