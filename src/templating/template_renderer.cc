#include "templating/template_renderer.h"

#include <boost/json.hpp>

#include "common/log.h"
#include "domain/sms_encoding.h"
#include "templates/helpers.h"

namespace comms::templating {
namespace {

namespace json = boost::json;

constexpr std::size_t kHelperSets = 256;  // (locale, zone) pairs kept; more means the set is rebuilt

std::string first_word(const std::string& name) {
  const auto start = name.find_first_not_of(' ');
  if (start == std::string::npos) return {};
  return name.substr(start, name.find(' ', start) - start);
}

}  // namespace

templates::Escape escape_for(domain::Channel channel, Part part) {
  return channel == domain::Channel::email && part == Part::html ? templates::Escape::html : templates::Escape::none;
}

json::value render_context(const std::string& personalization, const domain::Recipient* r) {
  boost::system::error_code ec;
  json::value parsed = json::parse(personalization, ec);
  json::object ctx = !ec && parsed.is_object() ? std::move(parsed.get_object()) : json::object();
  if (r) {
    ctx["recipient"] = json::object{{"id", r->id},
                                    {"name", r->name},
                                    {"firstName", first_word(r->name)},
                                    {"language", r->language},
                                    {"timezone", r->timezone}};
  }
  return ctx;
}

RenderedParts render_parts(const CompiledTemplate& t, domain::Channel channel, const json::value& context,
                           const templates::Lambdas& helpers, const std::string& label) {
  RenderedParts out;
  std::vector<std::string> missing;
  auto part = [&](const templates::Template& tpl, Part p, std::string& into) {
    const templates::RenderOptions opts{
        .escape = escape_for(channel, p), .lambdas = &helpers, .missing = t.strict ? &missing : nullptr};
    return templates::render(tpl, context, opts, into);
  };
  bool complete = part(t.subject, Part::subject, out.subject) && part(t.body, Part::text, out.text);
  if (complete && channel == domain::Channel::email && t.has_html) complete = part(t.html, Part::html, out.html);
  if (!complete) {
    out.ok = false;
    out.error = "template " + label + " stopped at a render limit (output over 4 MiB, too many sections, or " +
                "nesting deeper than 100)";
    return out;
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ",") + m;
    log::warn("template_missing_variables", {{"template", label}, {"names", names}});
  }
  if (channel == domain::Channel::sms && t.max_segments > 0) {
    const auto sms = domain::analyze_sms(out.text);
    if (sms.segments > t.max_segments) {
      out.ok = false;
      out.error = "rendered SMS takes " + std::to_string(sms.segments) + " segments (" +
                  (sms.encoding == domain::SmsCharset::gsm7 ? "GSM-7, " : "UCS-2, ") +
                  std::to_string(sms.characters) + " chars), template " + label + " allows " +
                  std::to_string(t.max_segments);
    }
  }
  return out;
}

boost::asio::awaitable<delivery::RenderOutcome> TemplateRenderer::render(const domain::Notification& n,
                                                                        const domain::Recipient* r) {
  if (n.template_name.empty()) co_return delivery::render_literal(n, r);
  delivery::RenderOutcome out = delivery::envelope(n, r);
  if (!out.ok) co_return out;

  const std::string wanted = !n.locale.empty()                  ? n.locale
                             : r && !r->language.empty()        ? r->language
                                                                : std::string("en");
  const std::string key = n.template_category + "/" + n.template_name;
  std::optional<Resolved> found;
  try {
    found = co_await service_.resolve(n.template_category, n.template_name, n.channel, wanted);
  } catch (const BrokenTemplateError& e) {
    out.ok = false;
    out.error = key + ": " + e.what();
    co_return out;
  }
  if (!found) {
    // The rules' fallback text (or a caller's literal content) stands in for a missing template.
    if (!n.content.empty()) co_return delivery::render_literal(n, r);
    out.ok = false;
    std::string tried;
    for (const auto& tag : locale_chain(wanted)) tried += (tried.empty() ? "" : ", ") + tag;
    out.error = "no template " + key + " for " + std::string(domain::to_string(n.channel)) + " in locale " + tried;
    co_return out;
  }

  const auto& t = *found->compiled;
  const std::string zone = r ? r->timezone : std::string();
  const std::string label = key + " (" + found->locale + ") v" + std::to_string(t.version);
  auto rendered = render_parts(t, n.channel, render_context(n.personalization, r), *helpers(found->locale, zone), label);
  if (!rendered.ok) {
    out.ok = false;
    out.error = std::move(rendered.error);
    co_return out;
  }
  out.message.subject = std::move(rendered.subject);
  out.message.text = std::move(rendered.text);
  out.message.html = std::move(rendered.html);
  co_return out;
}

std::shared_ptr<const templates::Lambdas> TemplateRenderer::helpers(const std::string& locale,
                                                                    const std::string& zone) {
  const auto key = std::make_pair(locale, zone);
  {
    std::lock_guard lock(mu_);
    if (auto it = helpers_.find(key); it != helpers_.end()) return it->second;
  }
  auto built = std::make_shared<const templates::Lambdas>(templates::default_helpers(locale, zone));
  std::lock_guard lock(mu_);
  if (helpers_.size() >= kHelperSets) helpers_.clear();
  return helpers_.emplace(key, std::move(built)).first->second;
}

}  // namespace comms::templating
