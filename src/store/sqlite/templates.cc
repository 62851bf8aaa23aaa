// Message templates and their versions (issue 3).
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "store/sqlite/unit_of_work.h"

namespace comms::store::sqlite {
namespace {

// The template row joined with its active version.
constexpr std::string_view kSelect =
    "SELECT t.id, t.category, t.name, t.channel, t.locale, t.description, t.active_version, "
    "t.latest_version, t.created_at, t.updated_at, t.version, v.subject, v.body, v.html_body, "
    "v.max_segments, v.strict FROM templates t LEFT JOIN template_versions v "
    "ON v.template_id = t.id AND v.version = t.active_version ";

TemplateRecord read_record(const Statement& q) {
  TemplateRecord t;
  t.id = q.text(0);
  t.category = q.text(1);
  t.name = q.text(2);
  t.channel = domain::parse_channel(q.text(3)).value_or(domain::Channel::sms);
  t.locale = q.text(4);
  t.description = q.text(5);
  t.active_version = q.int32(6);
  t.latest_version = q.int32(7);
  t.created_at = q.int64(8);
  t.updated_at = q.int64(9);
  t.version = q.int64(10);
  t.active.subject = q.text(11);
  t.active.body = q.text(12);
  t.active.html_body = q.text(13);
  t.active.max_segments = q.int32(14);
  t.active.strict = q.int64(15) != 0;
  return t;
}

void insert_version(Connection& c, const std::string& id, int version, const TemplateContent& content,
                    const std::string& created_by, Millis at) {
  Statement q(c,
              "INSERT INTO template_versions (template_id, version, subject, body, html_body, max_segments, "
              "strict, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  q.bind(1, id)
      .bind(2, version)
      .bind(3, content.subject)
      .bind(4, content.body)
      .bind(5, content.html_body)
      .bind(6, content.max_segments)
      .bind(7, content.strict)
      .bind(8, created_by)
      .bind(9, at)
      .run();
}

// Moves the row to (active, latest) when its version is t.version; bumps t.version.
void move_row(Connection& c, TemplateRecord& t, int active, int latest, Millis at) {
  Statement q(c,
              "UPDATE templates SET active_version = ?2, latest_version = ?3, description = ?4, updated_at = ?5, "
              "version = version + 1 WHERE id = ?1 AND version = ?6 RETURNING version");
  q.bind(1, t.id).bind(2, active).bind(3, latest).bind(4, t.description).bind(5, at).bind(6, t.version);
  if (!q.step())
    throw ConflictError("template " + t.id + " is not at version " + std::to_string(t.version) + " (or is gone)");
  t.version = q.int64(0);
  t.active_version = active;
  t.latest_version = latest;
  t.updated_at = at;
}

}  // namespace

void SqliteTemplates::create(TemplateRecord& t, const std::string& created_by) {
  require_writable();
  const Millis at = t.created_at ? t.created_at : now_ms();
  Statement q(conn_,
              "INSERT INTO templates (id, category, name, channel, locale, description, active_version, "
              "latest_version, created_at, updated_at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 1, ?7, ?7, 1)");
  q.bind(1, t.id)
      .bind(2, t.category)
      .bind(3, t.name)
      .bind(4, domain::to_string(t.channel))
      .bind(5, t.locale)
      .bind(6, t.description)
      .bind(7, at)
      .run();
  insert_version(conn_, t.id, 1, t.active, created_by, at);
  t.created_at = t.updated_at = at;
  t.active_version = t.latest_version = 1;
  t.version = 1;
}

std::optional<TemplateRecord> SqliteTemplates::get(const std::string& id) {
  Statement q(conn_, std::string(kSelect) + "WHERE t.id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return read_record(q);
}

std::optional<TemplateRecord> SqliteTemplates::find(const std::string& category, const std::string& name,
                                                    domain::Channel channel, const std::string& locale) {
  Statement q(conn_, std::string(kSelect) +
                         "WHERE t.category = ?1 AND t.name = ?2 AND t.channel = ?3 AND t.locale = ?4");
  q.bind(1, category).bind(2, name).bind(3, domain::to_string(channel)).bind(4, locale);
  if (!q.step()) return std::nullopt;
  return read_record(q);
}

Page<TemplateRecord> SqliteTemplates::query(const TemplateQuery& f) {
  std::string where;
  std::vector<std::string> params;
  auto add = [&](std::string_view column, std::string value) {
    where += where.empty() ? "WHERE " : " AND ";
    where += "t." + std::string(column) + " = ?" + std::to_string(params.size() + 1);
    params.push_back(std::move(value));
  };
  if (f.category) add("category", *f.category);
  if (f.name) add("name", *f.name);
  if (f.channel) add("channel", std::string(domain::to_string(*f.channel)));
  if (f.locale) add("locale", *f.locale);
  auto bind_params = [&](Statement& q) {
    for (std::size_t i = 0; i < params.size(); ++i) q.bind(static_cast<int>(i + 1), params[i]);
  };
  Page<TemplateRecord> page;
  {
    Statement q(conn_, "SELECT COUNT(*) FROM templates t " + where);
    bind_params(q);
    if (q.step()) page.total = q.int64(0);
  }
  const auto [limit, offset] = page_window(f.page, f.page_size);
  const int n = static_cast<int>(params.size());
  Statement q(conn_, std::string(kSelect) + where +
                         " ORDER BY t.category, t.name, t.channel, t.locale LIMIT ?" + std::to_string(n + 1) +
                         " OFFSET ?" + std::to_string(n + 2));
  bind_params(q);
  q.bind(n + 1, limit).bind(n + 2, offset);
  while (q.step()) page.items.push_back(read_record(q));
  return page;
}

void SqliteTemplates::add_version(TemplateRecord& t, const std::string& created_by) {
  require_writable();
  const Millis at = now_ms();
  int latest = 0;
  {
    Statement q(conn_, "SELECT latest_version FROM templates WHERE id = ?1");
    q.bind(1, t.id);
    if (!q.step()) throw ConflictError("template " + t.id + " is gone");
    latest = q.int32(0);
  }
  move_row(conn_, t, latest + 1, latest + 1, at);
  insert_version(conn_, t.id, latest + 1, t.active, created_by, at);
}

bool SqliteTemplates::activate(TemplateRecord& t, int version) {
  require_writable();
  TemplateContent content;
  {
    Statement q(conn_,
                "SELECT subject, body, html_body, max_segments, strict FROM template_versions "
                "WHERE template_id = ?1 AND version = ?2");
    q.bind(1, t.id).bind(2, version);
    if (!q.step()) return false;
    content = {q.text(0), q.text(1), q.text(2), q.int32(3), q.int64(4) != 0};
  }
  move_row(conn_, t, version, t.latest_version, now_ms());
  t.active = std::move(content);
  return true;
}

std::vector<TemplateVersion> SqliteTemplates::versions(const std::string& id) {
  Statement q(conn_,
              "SELECT template_id, version, subject, body, html_body, max_segments, strict, created_by, "
              "created_at FROM template_versions WHERE template_id = ?1 ORDER BY version");
  q.bind(1, id);
  std::vector<TemplateVersion> out;
  while (q.step()) {
    TemplateVersion v;
    v.template_id = q.text(0);
    v.version = q.int32(1);
    v.content = {q.text(2), q.text(3), q.text(4), q.int32(5), q.int64(6) != 0};
    v.created_by = q.text(7);
    v.created_at = q.int64(8);
    out.push_back(std::move(v));
  }
  return out;
}

bool SqliteTemplates::remove(const std::string& id) {
  require_writable();
  Statement v(conn_, "DELETE FROM template_versions WHERE template_id = ?1");
  v.bind(1, id).run();
  Statement q(conn_, "DELETE FROM templates WHERE id = ?1");
  q.bind(1, id);
  return q.run() == 1;
}

}  // namespace comms::store::sqlite
