// Recipient preferences and saga instances (issue 4).
#include <string>
#include <vector>

#include "store/postgres/unit_of_work.h"

namespace comms::store::postgres {
namespace {

constexpr std::string_view kWorkflowColumns =
    "correlation_id, workflow, current_state, event_id, event_type, event_payload, flags, steps, wake_at, "
    "created_at, updated_at, completed_at, version";

WorkflowInstance read_instance(const Result& r, int i) {
  return {.correlation_id = r.text(i, 0),
          .workflow = r.text(i, 1),
          .current_state = r.text(i, 2),
          .event_id = r.text(i, 3),
          .event_type = r.text(i, 4),
          .event_payload = r.text(i, 5),
          .flags = r.text(i, 6),
          .steps = r.text(i, 7),
          .wake_at = r.int64(i, 8),
          .created_at = r.int64(i, 9),
          .updated_at = r.int64(i, 10),
          .completed_at = r.int64(i, 11),
          .version = r.int64(i, 12)};
}

// $1..$12 in kWorkflowColumns order (all but version).
Params instance_params(const WorkflowInstance& w) {
  Params p;
  p.add(w.correlation_id).add(w.workflow).add(w.current_state).add(w.event_id).add(w.event_type);
  p.add(w.event_payload).add(w.flags).add(w.steps).add(w.wake_at).add(w.created_at).add(w.updated_at);
  p.add(w.completed_at);
  return p;
}

}  // namespace

// Items never contain commas (store.h: lower-case names).
std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t start = 0, end = 0; start < text.size(); start = end + 1) {
    end = std::min(text.find(',', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
  }
  return out;
}

std::optional<RecipientPreferences> PgPreferences::get(const std::string& recipient_id) {
  const Result r = conn_.query(
      "SELECT recipient_id, opted_out_channels, opted_out_categories, quiet_start, quiet_end, timezone, "
      "language, updated_at, version FROM recipient_preferences WHERE recipient_id = $1",
      Params().add(recipient_id));
  if (r.empty()) return std::nullopt;
  return RecipientPreferences{.recipient_id = r.text(0, 0),
                              .opted_out_channels = split_list(r.text(0, 1)),
                              .opted_out_categories = split_list(r.text(0, 2)),
                              .quiet_start = r.text(0, 3),
                              .quiet_end = r.text(0, 4),
                              .timezone = r.text(0, 5),
                              .language = r.text(0, 6),
                              .updated_at = r.int64(0, 7),
                              .version = r.int64(0, 8)};
}

void PgPreferences::upsert(RecipientPreferences& p) {
  require_writable();
  const bool checked = p.version > 0;
  Params params;
  params.add(p.recipient_id).add(join_list(p.opted_out_channels)).add(join_list(p.opted_out_categories));
  params.add(p.quiet_start).add(p.quiet_end).add(p.timezone).add(p.language).add(p.updated_at);
  if (checked) params.add(p.version);
  const Result r = conn_.query(
      checked ? "UPDATE recipient_preferences SET opted_out_channels = $2, opted_out_categories = $3, "
                "quiet_start = $4, quiet_end = $5, timezone = $6, language = $7, updated_at = $8, "
                "version = version + 1 WHERE recipient_id = $1 AND version = $9 RETURNING version"
              : "INSERT INTO recipient_preferences (recipient_id, opted_out_channels, opted_out_categories, "
                "quiet_start, quiet_end, timezone, language, updated_at, version) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) ON CONFLICT (recipient_id) DO UPDATE SET "
                "opted_out_channels = EXCLUDED.opted_out_channels, "
                "opted_out_categories = EXCLUDED.opted_out_categories, quiet_start = EXCLUDED.quiet_start, "
                "quiet_end = EXCLUDED.quiet_end, timezone = EXCLUDED.timezone, language = EXCLUDED.language, "
                "updated_at = EXCLUDED.updated_at, version = recipient_preferences.version + 1 "
                "RETURNING version",
      params);
  if (r.empty())
    throw ConflictError("preferences of " + p.recipient_id + " are not at version " +
                        std::to_string(p.version) + " (changed by someone else, or missing)");
  p.version = r.int64(0, 0);
}

void PgWorkflows::insert(WorkflowInstance& w) {
  require_writable();
  conn_.send("INSERT INTO workflow_instances (" + std::string(kWorkflowColumns) +
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)",
             instance_params(w));
  w.version = 1;
}

std::optional<WorkflowInstance> PgWorkflows::get(const std::string& correlation_id) {
  const Result r = conn_.query(
      "SELECT " + std::string(kWorkflowColumns) + " FROM workflow_instances WHERE correlation_id = $1",
      Params().add(correlation_id));
  if (r.empty()) return std::nullopt;
  return read_instance(r, 0);
}

void PgWorkflows::update(WorkflowInstance& w) {
  require_writable();
  Params p = instance_params(w);
  p.add(w.version);
  const Result r = conn_.query(
      "UPDATE workflow_instances SET workflow = $2, current_state = $3, event_id = $4, event_type = $5, "
      "event_payload = $6, flags = $7, steps = $8, wake_at = $9, created_at = $10, updated_at = $11, "
      "completed_at = $12, version = version + 1 WHERE correlation_id = $1 AND version = $13",
      p);
  if (r.affected() == 0)
    throw ConflictError("workflow " + w.correlation_id + " is not at version " + std::to_string(w.version) +
                        " (changed by someone else, or missing)");
  ++w.version;
}

std::vector<WorkflowInstance> PgWorkflows::due(Millis now, int limit) {
  if (limit <= 0) return {};
  const Result r = conn_.query("SELECT " + std::string(kWorkflowColumns) +
                                   " FROM workflow_instances WHERE wake_at > 0 AND wake_at <= $1 "
                                   "ORDER BY wake_at, correlation_id LIMIT $2",
                               Params().add(now).add(limit));
  std::vector<WorkflowInstance> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_instance(r, i));
  return out;
}

std::optional<Millis> PgWorkflows::next_wake_at() {
  const Result r = conn_.query("SELECT MIN(wake_at) FROM workflow_instances WHERE wake_at > 0");
  if (r.is_null(0, 0)) return std::nullopt;
  return r.int64(0, 0);
}

void PgWorkflows::add_history(WorkflowHistoryEntry& e) {
  require_writable();
  const Result r = conn_.query(
      "INSERT INTO workflow_history (correlation_id, at, from_state, to_state, cause, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
      Params().add(e.correlation_id).add(e.at).add(e.from_state).add(e.to_state).add(e.cause).add(e.detail));
  if (r.empty()) throw StoreError("workflow history insert returned no sequence number");
  e.seq = r.int64(0, 0);
}

std::vector<WorkflowHistoryEntry> PgWorkflows::history(const std::string& correlation_id) {
  const Result r = conn_.query(
      "SELECT seq, correlation_id, at, from_state, to_state, cause, detail FROM workflow_history "
      "WHERE correlation_id = $1 ORDER BY seq",
      Params().add(correlation_id));
  std::vector<WorkflowHistoryEntry> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.seq = r.int64(i, 0),
                   .correlation_id = r.text(i, 1),
                   .at = r.int64(i, 2),
                   .from_state = r.text(i, 3),
                   .to_state = r.text(i, 4),
                   .cause = r.text(i, 5),
                   .detail = r.text(i, 6)});
  return out;
}

}  // namespace comms::store::postgres
