// POST /api/v1/templates/preview (admin): renders a stored template (a given version or the active
// one) or an inline one with sample data, escaped per channel as the dispatcher sends it, and prices
// SMS bodies (encoding, characters, segments). docs/templates.md, "Admin API".
#include <algorithm>
#include <boost/json.hpp>
#include <climits>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/routes.h"
#include "api/template_input.h"
#include "domain/address.h"
#include "domain/sms_encoding.h"
#include "templates/helpers.h"
#include "templating/template_renderer.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using templating::escape_for;
using templating::Part;

constexpr const char* kDefaultTimezone = "Africa/Lusaka";

// What to render: a stored version or inline content.
struct Source {
  std::string template_id;  // empty for inline content
  int version = 0;
  domain::Channel channel = domain::Channel::sms;
  std::string locale;
  store::TemplateContent content;
};

awaitable<Source> stored_source(Context& ctx, const std::string& id, std::optional<long long> version) {
  std::optional<store::TemplateRecord> t;
  std::vector<store::TemplateVersion> versions;
  co_await ctx.read([&](store::UnitOfWork& uow) {
    t = uow.templates().get(id);
    if (t && version) versions = uow.templates().versions(id);
  });
  if (!t) throw not_found("template '" + id + "' does not exist");
  Source s{id, t->active_version, t->channel, t->locale, t->active};
  if (version) {
    const auto v = std::find_if(versions.begin(), versions.end(),
                                [&](const store::TemplateVersion& x) { return x.version == *version; });
    if (v == versions.end())
      throw not_found("template '" + id + "' has no version " + std::to_string(*version));
    s.version = v->version;
    s.content = v->content;
  }
  co_return s;
}

Source inline_source(const boost::json::object& o) {
  if (o.contains("version")) throw bad_request("field 'version' needs 'templateId'");
  Source s;
  s.channel = read_channel(o);
  s.locale = read_locale(o, "en");
  s.content = read_content(o, s.channel);
  return s;
}

boost::json::value string_or_null(std::string s) {
  if (s.empty()) return nullptr;
  return boost::json::value(std::move(s));
}

awaitable<Response> preview(Context& ctx, Request& req) {
  const auto o =
      parse_object(req.body, {"templateId", "version", "channel", "subject", "body", "htmlBody", "locale",
                              "strict", "maxSegments", "data", "personalization", "timezone"});
  const auto* data = optional_object(o, "data");
  const auto* personalization = optional_object(o, "personalization");
  if (data && personalization)
    throw bad_request("give the sample data as 'data' or as 'personalization', not both");
  const boost::json::value sample = data ? *data : personalization ? *personalization : boost::json::object{};
  const auto timezone = optional_string(o, "timezone", 64).value_or(kDefaultTimezone);
  if (!domain::is_known_timezone(timezone))
    throw bad_request("field 'timezone' must be an IANA time zone such as Africa/Lusaka");

  Source s;
  if (auto id = optional_string(o, "templateId", 64)) {
    for (const char* f : {"channel", "subject", "body", "htmlBody", "locale", "strict", "maxSegments"}) {
      if (o.contains(f))
        throw bad_request(
            "field '" + std::string(f) +
            "' cannot be combined with 'templateId': preview a stored template or an inline one");
    }
    s = co_await stored_source(ctx, *id, optional_int(o, "version", 1, INT_MAX));
  } else {
    s = inline_source(o);
  }

  const auto compiled = compile_content(s.content);
  const auto helpers = templates::default_helpers(s.locale, timezone);
  std::vector<std::string> missing;
  // Escaped per part exactly as the dispatcher's renderer does.
  templates::RenderOptions opts{.lambdas = &helpers, .missing = s.content.strict ? &missing : nullptr};
  bool complete = true;
  auto render = [&](const templates::Template& t, Part part) {
    opts.escape = escape_for(s.channel, part);
    std::string out;
    complete = templates::render(t, sample, opts, out) && complete;
    return out;
  };
  std::string subject = render(compiled.subject, Part::subject);
  std::string body = render(compiled.body, Part::text);
  std::string html = render(compiled.html_body, Part::html);

  boost::json::object out;
  out["templateId"] = string_or_null(s.template_id);
  out["version"] = s.template_id.empty() ? boost::json::value(nullptr) : boost::json::value(s.version);
  out["channel"] = domain::to_string(s.channel);
  out["locale"] = s.locale;
  out["timezone"] = timezone;
  out["subject"] = string_or_null(std::move(subject));
  out["html"] = string_or_null(std::move(html));
  if (s.channel == domain::Channel::sms) {
    const auto sms = domain::analyze_sms(body);
    out["encoding"] = sms.encoding == domain::SmsCharset::gsm7 ? "GSM-7" : "UCS-2";
    out["characters"] = sms.characters;
    out["segments"] = sms.segments;
    out["maxSegments"] = s.content.max_segments;
    out["exceedsMaxSegments"] = s.content.max_segments > 0 && sms.segments > s.content.max_segments;
  }
  out["body"] = std::move(body);
  if (s.content.strict) {
    out["missing"] = boost::json::value_from(missing);
  } else {
    out["missing"] = nullptr;
  }
  out["complete"] = complete;
  co_return Response::json(200, out);
}

}  // namespace

void register_template_preview_route(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/templates/preview", http::Access::roles_of({http::Role::admin}),
             guarded([&ctx](Request& r) { return preview(ctx, r); }));
}

}  // namespace comms::api
