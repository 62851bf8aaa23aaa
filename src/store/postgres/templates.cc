// Message templates and their versions (issue 3).
#include <string>
#include <vector>

#include "common/clock.h"
#include "store/postgres/unit_of_work.h"

namespace comms::store::postgres {
namespace {

// The template row joined with its active version.
constexpr std::string_view kSelect =
    "SELECT t.id, t.category, t.name, t.channel, t.locale, t.description, t.active_version, "
    "t.latest_version, t.created_at, t.updated_at, t.version, v.subject, v.body, v.html_body, "
    "v.max_segments, v.strict FROM templates t LEFT JOIN template_versions v "
    "ON v.template_id = t.id AND v.version = t.active_version ";

TemplateContent read_content(const Result& r, int i, int first) {
  return {r.text(i, first), r.text(i, first + 1), r.text(i, first + 2), r.int32(i, first + 3),
          r.int64(i, first + 4) != 0};
}

TemplateRecord read_record(const Result& r, int i) {
  return {.id = r.text(i, 0),
          .category = r.text(i, 1),
          .name = r.text(i, 2),
          .channel = domain::parse_channel(r.text(i, 3)).value_or(domain::Channel::sms),
          .locale = r.text(i, 4),
          .description = r.text(i, 5),
          .active_version = r.int32(i, 6),
          .latest_version = r.int32(i, 7),
          .active = read_content(r, i, 11),
          .created_at = r.int64(i, 8),
          .updated_at = r.int64(i, 9),
          .version = r.int64(i, 10)};
}

void insert_version(Connection& c, const std::string& id, int version, const TemplateContent& content,
                    const std::string& created_by, Millis at) {
  Params p;
  p.add(id).add(version).add(content.subject).add(content.body).add(content.html_body);
  p.add(content.max_segments).add(content.strict).add(created_by).add(at);
  c.send(
      "INSERT INTO template_versions (template_id, version, subject, body, html_body, max_segments, strict, "
      "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      p);
}

// Moves the row to (active, latest) when its version is t.version; bumps t.version.
void move_row(Connection& c, TemplateRecord& t, int active, int latest, Millis at) {
  const Result r = c.query(
      "UPDATE templates SET active_version = $2, latest_version = $3, description = $4, updated_at = $5, "
      "version = version + 1 WHERE id = $1 AND version = $6 RETURNING version",
      Params().add(t.id).add(active).add(latest).add(t.description).add(at).add(t.version));
  if (r.empty())
    throw ConflictError("template " + t.id + " is not at version " + std::to_string(t.version) +
                        " (or is gone)");
  t.version = r.int64(0, 0);
  t.active_version = active;
  t.latest_version = latest;
  t.updated_at = at;
}

}  // namespace

void PgTemplates::create(TemplateRecord& t, const std::string& created_by) {
  require_writable();
  const Millis at = t.created_at ? t.created_at : now_ms();
  conn_.send(
      "INSERT INTO templates (id, category, name, channel, locale, description, active_version, "
      "latest_version, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 1, 1, $7, $7, 1)",
      Params()
          .add(t.id)
          .add(t.category)
          .add(t.name)
          .add(domain::to_string(t.channel))
          .add(t.locale)
          .add(t.description)
          .add(at));
  insert_version(conn_, t.id, 1, t.active, created_by, at);
  t.created_at = t.updated_at = at;
  t.active_version = t.latest_version = 1;
  t.version = 1;
}

std::optional<TemplateRecord> PgTemplates::get(const std::string& id) {
  const Result r = conn_.query(std::string(kSelect) + "WHERE t.id = $1", Params().add(id));
  if (r.empty()) return std::nullopt;
  return read_record(r, 0);
}

std::optional<TemplateRecord> PgTemplates::find(const std::string& category, const std::string& name,
                                                domain::Channel channel, const std::string& locale) {
  const Result r = conn_.query(
      std::string(kSelect) + "WHERE t.category = $1 AND t.name = $2 AND t.channel = $3 AND t.locale = $4",
      Params().add(category).add(name).add(domain::to_string(channel)).add(locale));
  if (r.empty()) return std::nullopt;
  return read_record(r, 0);
}

Page<TemplateRecord> PgTemplates::query(const TemplateQuery& f) {
  std::string where;
  Params params;
  auto add = [&](std::string_view column, std::string_view value) {
    where += where.empty() ? "WHERE " : " AND ";
    where += "t." + std::string(column) + " = $" + std::to_string(params.size() + 1);
    params.add(value);
  };
  if (f.category) add("category", *f.category);
  if (f.name) add("name", *f.name);
  if (f.channel) add("channel", domain::to_string(*f.channel));
  if (f.locale) add("locale", *f.locale);
  Page<TemplateRecord> page;
  page.total = conn_.query("SELECT COUNT(*) FROM templates t " + where, params).int64(0, 0);
  const auto [limit, offset] = page_window(f.page, f.page_size);
  const int n = params.size();
  params.add(limit).add(offset);
  const Result r =
      conn_.query(std::string(kSelect) + where + " ORDER BY t.category, t.name, t.channel, t.locale LIMIT $" +
                      std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2),
                  params);
  for (int i = 0; i < r.rows(); ++i) page.items.push_back(read_record(r, i));
  return page;
}

void PgTemplates::add_version(TemplateRecord& t, const std::string& created_by) {
  require_writable();
  const Millis at = now_ms();
  const Result r = conn_.query("SELECT latest_version FROM templates WHERE id = $1", Params().add(t.id));
  if (r.empty()) throw ConflictError("template " + t.id + " is gone");
  const int latest = r.int32(0, 0);
  move_row(conn_, t, latest + 1, latest + 1, at);
  insert_version(conn_, t.id, latest + 1, t.active, created_by, at);
}

bool PgTemplates::activate(TemplateRecord& t, int version) {
  require_writable();
  const Result r = conn_.query(
      "SELECT subject, body, html_body, max_segments, strict FROM template_versions "
      "WHERE template_id = $1 AND version = $2",
      Params().add(t.id).add(version));
  if (r.empty()) return false;
  move_row(conn_, t, version, t.latest_version, now_ms());
  t.active = read_content(r, 0, 0);
  return true;
}

std::vector<TemplateVersion> PgTemplates::versions(const std::string& id) {
  const Result r = conn_.query(
      "SELECT template_id, version, subject, body, html_body, max_segments, strict, created_by, created_at "
      "FROM template_versions WHERE template_id = $1 ORDER BY version",
      Params().add(id));
  std::vector<TemplateVersion> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.template_id = r.text(i, 0),
                   .version = r.int32(i, 1),
                   .content = read_content(r, i, 2),
                   .created_by = r.text(i, 7),
                   .created_at = r.int64(i, 8)});
  return out;
}

bool PgTemplates::remove(const std::string& id) {
  require_writable();
  conn_.send("DELETE FROM template_versions WHERE template_id = $1", Params().add(id));
  return conn_.query("DELETE FROM templates WHERE id = $1", Params().add(id)).affected() == 1;
}

}  // namespace comms::store::postgres
