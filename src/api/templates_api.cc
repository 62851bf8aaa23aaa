// The admin template API (issue 3): list, create, read, save a version, delete, versions and
// activation. The preview is in template_preview_api.cc; docs/templates.md, "Admin API".
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/routes.h"
#include "api/template_input.h"
#include "api/views.h"
#include "common/clock.h"
#include "common/ids.h"
#include "templating/template_service.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;

constexpr std::size_t kMaxKeyPart = 64;  // as templateCategory/templateName of the send command
constexpr std::size_t kMaxDescription = 500;
constexpr long long kMaxRowVersion = 1LL << 53;

std::string read_key_part(const boost::json::object& o, std::string_view field) {
  auto s = required_string(o, field, kMaxKeyPart);
  for (char ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      throw bad_request("field '" + std::string(field) +
                        "' may hold only letters, digits, '-', '_' and '.' (e.g. loan-origination)");
  }
  return s;
}

ApiError no_template(const std::string& id) {
  return not_found("template '" + id + "' does not exist");
}

// The row version the caller last saw: the If-Match header ("3", W/"3" or 3; "*" means any) or a
// `version` field. A mismatch is 412 for the header and 409 for the field.
struct Expected {
  std::int64_t version = 0;
  bool from_header = false;
};

std::optional<Expected> expected_version(const Request& req, std::optional<long long> field) {
  std::optional<Expected> header;
  if (auto h = req.header("If-Match"); h && *h != "*") {
    std::string_view v = *h;
    if (v.starts_with("W/")) v.remove_prefix(2);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    std::int64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 1)
      throw bad_request("header 'If-Match' must be the template's version as its ETag gives it, e.g. \"3\"");
    header = Expected{n, true};
  }
  if (header && field && *field != header->version)
    throw bad_request("header 'If-Match' and field 'version' disagree");
  if (header) return header;
  if (field) return Expected{*field, false};
  return std::nullopt;
}

void check_expected(const store::TemplateRecord& t, const std::optional<Expected>& e) {
  if (!e || e->version == t.version) return;
  const auto message = "template '" + t.id + "' is at version " + std::to_string(t.version) + ", not " +
                       std::to_string(e->version) + "; read it again and retry";
  if (e->from_header) throw ApiError(412, "precondition_failed", message);
  throw ApiError(409, "conflict", message);
}

// After every committed change: the template cache must not serve the old version.
awaitable<void> changed(Context& ctx, const store::TemplateRecord& t) {
  if (ctx.templates) co_await ctx.templates->invalidate(t);
}

Response record_response(int status, const store::TemplateRecord& t) {
  auto res = Response::json(status, to_json(t, true));
  res.set_header("ETag", "\"" + std::to_string(t.version) + "\"");
  return res;
}

awaitable<Response> list_templates(Context& ctx, Request& req) {
  for (const auto& [k, v] : req.query) {
    if (k != "category" && k != "name" && k != "channel" && k != "locale" && k != "page" && k != "pageSize")
      throw bad_request("unknown query parameter '" + k + "'");
  }
  store::TemplateQuery q;
  if (auto v = req.query_param("category")) q.category = std::string(*v);
  if (auto v = req.query_param("name")) q.name = std::string(*v);
  if (auto v = req.query_param("locale")) q.locale = std::string(*v);
  if (auto c = req.query_param("channel")) {
    q.channel = domain::parse_channel(*c);
    if (!q.channel) throw bad_request("query parameter 'channel' must be one of sms, email, inapp");
  }
  q.page = int_query(req, "page", 1, 1, 1'000'000);
  q.page_size = int_query(req, "pageSize", 20, 1, 100);
  store::Page<store::TemplateRecord> page;
  co_await ctx.read([&](store::UnitOfWork& uow) { page = uow.templates().query(q); });
  boost::json::array items;
  for (const auto& t : page.items) items.push_back(to_json(t, false));
  co_return Response::json(200, {{"items", std::move(items)},
                                 {"page", q.page},
                                 {"pageSize", q.page_size},
                                 {"totalCount", page.total},
                                 {"totalPages", (page.total + q.page_size - 1) / q.page_size}});
}

awaitable<Response> create_template(Context& ctx, Request& req) {
  const auto o = parse_object(req.body, {"category", "name", "channel", "locale", "description", "subject",
                                         "body", "htmlBody", "maxSegments", "strict"});
  store::TemplateRecord t;
  t.category = read_key_part(o, "category");
  t.name = read_key_part(o, "name");
  t.channel = read_channel(o);
  t.locale = read_locale(o, "en");
  t.description = optional_string(o, "description", kMaxDescription).value_or("");
  t.active = read_content(o, t.channel);
  compile_content(t.active);
  t.id = new_uuid();
  t.created_at = now_ms();
  std::optional<std::string> existing;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    if (auto e = uow.templates().find(t.category, t.name, t.channel, t.locale)) {
      existing = e->id;
      return;
    }
    uow.templates().create(t, req.principal.sub);
  });
  if (existing)
    throw ApiError(409, "duplicate",
                   "template " + t.category + "/" + t.name + " (" +
                       std::string(domain::to_string(t.channel)) + ", " + t.locale + ") exists with id " +
                       *existing + "; PUT a new version to it instead");
  co_await changed(ctx, t);
  auto res = record_response(201, t);
  res.set_header("Location", "/api/v1/templates/" + t.id);
  co_return res;
}

awaitable<Response> get_template(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  std::optional<store::TemplateRecord> t;
  co_await ctx.read([&](store::UnitOfWork& uow) { t = uow.templates().get(id); });
  if (!t) throw no_template(id);
  co_return record_response(200, *t);
}

// Saves the body's content as a new version and activates it.
awaitable<Response> put_template(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  const auto o = parse_object(
      req.body, {"description", "subject", "body", "htmlBody", "maxSegments", "strict", "version"});
  const auto expected = expected_version(req, optional_int(o, "version", 1, kMaxRowVersion));
  const auto description = optional_string(o, "description", kMaxDescription);
  std::optional<store::TemplateRecord> t;
  co_await ctx.read([&](store::UnitOfWork& uow) { t = uow.templates().get(id); });
  if (!t) throw no_template(id);
  const auto content = read_content(o, t->channel);  // the channel is part of the key: it never changes
  compile_content(content);
  co_await ctx.write([&](store::UnitOfWork& uow) {
    t = uow.templates().get(id);
    if (!t) return;
    check_expected(*t, expected);
    t->active = content;
    if (description) t->description = *description;
    uow.templates().add_version(*t, req.principal.sub);
  });
  if (!t) throw no_template(id);
  co_await changed(ctx, *t);
  co_return record_response(200, *t);
}

awaitable<Response> delete_template(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  const auto expected = expected_version(req, std::nullopt);
  std::optional<store::TemplateRecord> t;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    t = uow.templates().get(id);
    if (!t) return;
    check_expected(*t, expected);
    uow.templates().remove(id);
  });
  if (!t) throw no_template(id);
  co_await changed(ctx, *t);
  Response res;
  res.status = 204;
  co_return res;
}

awaitable<Response> list_versions(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  std::optional<store::TemplateRecord> t;
  std::vector<store::TemplateVersion> versions;
  co_await ctx.read([&](store::UnitOfWork& uow) {
    t = uow.templates().get(id);
    if (t) versions = uow.templates().versions(id);
  });
  if (!t) throw no_template(id);
  boost::json::array items;
  for (const auto& v : versions) items.push_back(to_json(v, v.version == t->active_version));
  co_return Response::json(
      200, {{"templateId", id}, {"activeVersion", t->active_version}, {"items", std::move(items)}});
}

awaitable<Response> activate_version(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  const auto raw = req.param("version");
  int version = 0;
  const auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), version);
  if (ec != std::errc() || p != raw.data() + raw.size() || version < 1)
    throw bad_request("path parameter 'version' must be a positive integer");
  const auto expected = expected_version(req, std::nullopt);
  std::optional<store::TemplateRecord> t;
  bool activated = false;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    t = uow.templates().get(id);
    if (!t) return;
    check_expected(*t, expected);
    activated = uow.templates().activate(*t, version);
  });
  if (!t) throw no_template(id);
  if (!activated) throw not_found("template '" + id + "' has no version " + std::to_string(version));
  co_await changed(ctx, *t);
  co_return record_response(200, *t);
}

}  // namespace

void register_template_routes(http::Router& router, Context& ctx) {
  const auto admin = http::Access::roles_of({http::Role::admin});
  auto add = [&](const char* method, const char* pattern, awaitable<Response> (*f)(Context&, Request&)) {
    router.add(method, pattern, admin, guarded([&ctx, f](Request& r) { return f(ctx, r); }));
  };
  add("GET", "/api/v1/templates", list_templates);
  add("POST", "/api/v1/templates", create_template);
  add("GET", "/api/v1/templates/{id}", get_template);
  add("PUT", "/api/v1/templates/{id}", put_template);
  add("DELETE", "/api/v1/templates/{id}", delete_template);
  add("GET", "/api/v1/templates/{id}/versions", list_versions);
  add("POST", "/api/v1/templates/{id}/versions/{version}/activate", activate_version);
  register_template_preview_route(router, ctx);
}

}  // namespace comms::api
