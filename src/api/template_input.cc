#include "api/template_input.h"

#include <cctype>

#include "api/api_error.h"
#include "api/json_input.h"
#include "domain/address.h"

namespace comms::api {
namespace {

constexpr std::size_t kMaxSubject = 998;      // an email subject line (RFC 5322)
constexpr std::size_t kMaxPart = 256 * 1024;  // body, htmlBody; the request body limit bounds the sum
constexpr long long kMaxSegmentsLimit = 10;

bool present(const boost::json::object& o, std::string_view field) {
  const auto it = o.find(field);
  return it != o.end() && !it->value().is_null();
}

void refuse(const boost::json::object& o, std::string_view field, domain::Channel channel) {
  if (present(o, field))
    throw bad_request("field '" + std::string(field) + "' is not used by " +
                      std::string(domain::to_string(channel)) + " templates");
}

void compile_part(std::string_view field, const std::string& source, templates::Template& out) {
  auto c = templates::compile(source);
  if (!c) {
    const auto& e = c.error();
    throw ApiError(400, "invalid_template",
                   "field '" + std::string(field) + "' does not compile: line " + std::to_string(e.line) +
                       ", column " + std::to_string(e.column) + ": " + e.message);
  }
  out = std::move(c).value();
}

}  // namespace

domain::Channel read_channel(const boost::json::object& o) {
  const auto channel = required_string(o, "channel", 16);
  const auto parsed = domain::parse_channel(channel);
  if (!parsed) throw bad_request("field 'channel' must be one of sms, email, inapp; got '" + channel + "'");
  return *parsed;
}

std::string read_locale(const boost::json::object& o, std::string_view def) {
  auto locale = optional_string(o, "locale", 16).value_or(std::string(def));
  bool lower = true;
  for (char ch : locale) {
    if (ch == '-') break;
    lower = lower && std::islower(static_cast<unsigned char>(ch));
  }
  if (!lower || !domain::is_language_tag(locale))
    throw bad_request("field 'locale' must be a language tag such as en, bem, ny or en-ZM");
  return locale;
}

store::TemplateContent read_content(const boost::json::object& o, domain::Channel channel) {
  using domain::Channel;
  store::TemplateContent c;
  c.subject = optional_string(o, "subject", kMaxSubject).value_or("");
  c.body = optional_string(o, "body", kMaxPart).value_or("");
  c.html_body = optional_string(o, "htmlBody", kMaxPart).value_or("");
  c.strict = optional_bool(o, "strict").value_or(false);
  if (channel == Channel::sms) {
    c.max_segments = static_cast<int>(optional_int(o, "maxSegments", 0, kMaxSegmentsLimit).value_or(0));
  } else {
    refuse(o, "maxSegments", channel);
  }
  if (channel != Channel::email) refuse(o, "htmlBody", channel);
  if (channel == Channel::sms) refuse(o, "subject", channel);
  if (channel == Channel::email) {
    if (c.subject.empty()) throw bad_request("missing field 'subject' (an email template needs one)");
    if (c.body.empty() && c.html_body.empty())
      throw bad_request("missing field 'body' (an email template needs body, htmlBody or both)");
  } else if (c.body.empty()) {
    throw bad_request("missing field 'body'");
  }
  return c;
}

CompiledContent compile_content(const store::TemplateContent& c) {
  CompiledContent out;
  compile_part("subject", c.subject, out.subject);
  compile_part("body", c.body, out.body);
  compile_part("htmlBody", c.html_body, out.html_body);
  return out;
}

}  // namespace comms::api
