// GET/PUT /api/v1/recipients/{id}/preferences: opt-out, quiet hours, language.
// Reads go through the cache; a PUT invalidates it.
#include <boost/json.hpp>

#include "api/handler.h"
#include "api/intake_routes.h"
#include "api/json_input.h"
#include "common/clock.h"
#include "intake/intake.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

std::vector<std::string> string_list(const boost::json::object& o, std::string_view field,
                                     std::string_view where) {
  std::vector<std::string> out;
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array())
    throw bad_request("field '" + std::string(where) + "' must be an array of strings");
  for (const auto& v : it->value().get_array()) {
    if (!v.is_string() || v.get_string().size() > 64)
      throw bad_request("field '" + std::string(where) +
                        "' must be an array of strings (each at most 64 bytes)");
    std::string s(v.get_string());
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

store::RecipientPreferences parse_preferences(const Request& req, const std::string& id) {
  const auto o = parse_object(req.body, {"recipientId", "optOut", "quietHours", "language", "version"});
  store::RecipientPreferences p;
  p.recipient_id = id;
  if (auto rid = optional_string(o, "recipientId", 128); rid && *rid != id)
    throw bad_request("field 'recipientId' does not match the id in the path");
  if (const auto* opt = optional_object(o, "optOut")) {
    for (const auto& kv : *opt)
      if (kv.key() != "channels" && kv.key() != "categories")
        throw bad_request("unknown field 'optOut." + std::string(kv.key()) + "'");
    p.opted_out_channels = string_list(*opt, "channels", "optOut.channels");
    p.opted_out_categories = string_list(*opt, "categories", "optOut.categories");
  }
  if (const auto* q = optional_object(o, "quietHours")) {
    for (const auto& kv : *q)
      if (kv.key() != "start" && kv.key() != "end" && kv.key() != "timezone")
        throw bad_request("unknown field 'quietHours." + std::string(kv.key()) + "'");
    auto field = [&](std::string_view k) {
      auto v = optional_string(*q, k, 64);
      if (!v) throw bad_request("missing field 'quietHours." + std::string(k) + "'");
      return *v;
    };
    p.quiet_start = field("start");
    p.quiet_end = field("end");
    p.timezone = optional_string(*q, "timezone", 64).value_or("");
  }
  p.language = optional_string(o, "language", 16).value_or("");
  p.version = optional_int(o, "version", 0, 1LL << 53).value_or(0);
  return p;
}

boost::json::object to_json(const store::RecipientPreferences& p) {
  boost::json::object o;
  o["recipientId"] = p.recipient_id;
  boost::json::object opt;
  boost::json::array channels, categories;
  for (const auto& c : p.opted_out_channels) channels.emplace_back(c);
  for (const auto& c : p.opted_out_categories) categories.emplace_back(c);
  opt["channels"] = std::move(channels);
  opt["categories"] = std::move(categories);
  o["optOut"] = std::move(opt);
  if (p.quiet_start.empty()) {
    o["quietHours"] = nullptr;
  } else {
    boost::json::object q;
    q["start"] = p.quiet_start;
    q["end"] = p.quiet_end;
    q["timezone"] = p.timezone.empty() ? boost::json::value(nullptr) : boost::json::value(p.timezone);
    o["quietHours"] = std::move(q);
  }
  o["language"] = p.language.empty() ? boost::json::value(nullptr) : boost::json::value(p.language);
  o["updatedAt"] =
      p.updated_at ? boost::json::value(format_iso8601(p.updated_at)) : boost::json::value(nullptr);
  o["version"] = p.version;
  return o;
}

std::string recipient_of(const Request& req) {
  std::string id(req.param("id"));
  if (id.empty() || id.size() > 128) throw bad_request("recipient id must be 1 to 128 characters");
  return id;
}

awaitable<Response> get_preferences(intake::Intake& intake, Request& req) {
  const auto id = recipient_of(req);
  if (!sees_everything(req.principal) && req.principal.sub != id)
    throw forbidden("you may only read your own preferences");
  const auto p = co_await intake.preferences().get(id);
  co_return Response::json(200, to_json(p));
}

awaitable<Response> put_preferences(intake::Intake& intake, Request& req) {
  const auto id = recipient_of(req);
  auto saved = co_await intake.preferences().put(parse_preferences(req, id));
  co_return Response::json(saved.created ? 201 : 200, to_json(saved.preferences));
}

}  // namespace

void register_preference_routes(http::Router& router, Context& ctx, intake::Intake& intake) {
  router.add("GET", "/api/v1/recipients/{id}/preferences",
             http::Access::roles_of({Role::customer, Role::staff, Role::service, Role::admin}),
             guarded([&intake](Request& r) { return get_preferences(intake, r); }));
  router.add("PUT", "/api/v1/recipients/{id}/preferences",
             http::Access::roles_of({Role::service, Role::admin}),
             guarded([&intake](Request& r) { return put_preferences(intake, r); }));
}

}  // namespace comms::api
