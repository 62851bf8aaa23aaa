#include "intake/payload.h"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>

#include "bus/masstransit.h"
#include "commands/rejected.h"
#include "domain/address.h"

namespace comms::intake {
namespace {

constexpr std::size_t kMaxText = 1024;
constexpr std::size_t kMaxId = 128;

class Reader {
 public:
  Reader(const EventSpec& spec) : spec_(spec) {}

  [[noreturn]] void fail(const FieldSpec& f, std::string_view why) const {
    throw commands::Rejected(
        commands::Rejected::Kind::invalid, "invalid_event",
        std::string(spec_.type) + ": field '" + std::string(f.name) + "' " + std::string(why));
  }

  std::string text(const FieldSpec& f, const boost::json::value& v, std::size_t max) const {
    if (!v.is_string()) fail(f, "must be a string");
    const auto& s = v.get_string();
    if (s.size() > max) fail(f, "is longer than " + std::to_string(max) + " bytes");
    return std::string(s);
  }

  double number(const FieldSpec& f, const boost::json::value& v) const {
    double d = 0;
    if (v.is_int64()) {
      d = static_cast<double>(v.get_int64());
    } else if (v.is_uint64()) {
      d = static_cast<double>(v.get_uint64());
    } else if (v.is_double()) {
      d = v.get_double();
    } else if (v.is_string()) {
      const std::string_view s = v.get_string();
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size()) fail(f, "must be a number");
    } else {
      fail(f, "must be a number");
    }
    if (!std::isfinite(d)) fail(f, "must be a finite number");
    return d;
  }

  std::int64_t integer(const FieldSpec& f, const boost::json::value& v) const {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
      return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double() && std::trunc(v.get_double()) == v.get_double() && std::fabs(v.get_double()) < 9e15)
      return static_cast<std::int64_t>(v.get_double());
    if (v.is_string()) {
      const std::string_view s = v.get_string();
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return n;
    }
    fail(f, "must be an integer");
  }

  boost::json::value value(const FieldSpec& f, const boost::json::value& v, const Sealer& sealer) const {
    switch (f.kind) {
      case FieldKind::text:
        return boost::json::value(text(f, v, kMaxText));
      case FieldKind::id: {
        if (v.is_int64() || v.is_uint64()) return boost::json::value(boost::json::serialize(v));
        auto s = text(f, v, kMaxId);
        if (f.required && s.empty()) fail(f, "must not be empty");
        return boost::json::value(s);
      }
      case FieldKind::money: {
        const double d = number(f, v);
        if (d < 0) fail(f, "must not be negative");
        // Whole amounts stay integers so that the JSON reads 15000, not 1.5E4.
        if (std::trunc(d) == d && d < 9e15) return boost::json::value(static_cast<std::int64_t>(d));
        return boost::json::value(d);
      }
      case FieldKind::integer:
        return boost::json::value(integer(f, v));
      case FieldKind::boolean:
        if (!v.is_bool()) fail(f, "must be true or false");
        return v;
      case FieldKind::datetime:
      case FieldKind::date: {
        auto s = text(f, v, 64);
        if (!parse_iso8601(s))
          fail(f, f.kind == FieldKind::date ? "must be an ISO-8601 date such as 2026-03-31"
                                            : "must be an ISO-8601 date-time such as 2026-03-31T08:00:00Z");
        return boost::json::value(s);
      }
      case FieldKind::currency: {
        auto s = text(f, v, 3);
        if (s.size() != 3 || !std::all_of(s.begin(), s.end(),
                                          [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
          fail(f, "must be a three-letter ISO-4217 code such as ZMW");
        for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return boost::json::value(s);
      }
      case FieldKind::phone: {
        auto s = text(f, v, 32);
        if (s.empty()) return nullptr;
        auto p = normalize_phone(s);
        if (!p) fail(f, "must be a phone number in E.164 form such as +260971234567");
        return boost::json::value(*p);
      }
      case FieldKind::email: {
        auto s = text(f, v, 254);
        if (s.empty()) return nullptr;
        if (!domain::is_email(s)) fail(f, "must be an email address");
        return boost::json::value(s);
      }
      case FieldKind::language: {
        auto s = text(f, v, 16);
        if (s.empty()) return nullptr;
        if (!domain::is_language_tag(s)) fail(f, "must be a language tag such as en, bem or ny");
        return boost::json::value(s);
      }
      case FieldKind::secret: {
        // The message never repeats the value.
        if (!v.is_string() && !v.is_int64() && !v.is_uint64()) fail(f, "must be a string");
        const std::string s = v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
        if (s.empty() || s.size() > 512) fail(f, "must be 1 to 512 characters");
        return boost::json::value(sealer.seal(s));
      }
    }
    fail(f, "has an unsupported kind");
  }

 private:
  const EventSpec& spec_;
};

}  // namespace

std::string Event::text(std::string_view field) const {
  if (field.empty()) return {};
  auto it = fields.find(field);
  if (it == fields.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

Event parse_event(const EventSpec& spec, std::string_view payload_json, std::string_view message_id,
                  std::string_view envelope_correlation_id, const Sealer& sealer) {
  using commands::Rejected;
  const std::string type(spec.type);
  boost::system::error_code ec;
  auto doc = boost::json::parse(payload_json, ec);
  if (ec)
    throw Rejected(Rejected::Kind::invalid, "invalid_event",
                   type + ": the message is not valid JSON (" + ec.message() + ")");
  if (!doc.is_object())
    throw Rejected(Rejected::Kind::invalid, "invalid_event", type + ": the message must be a JSON object");

  Reader reader(spec);
  Event ev;
  ev.spec = &spec;
  std::vector<const FieldSpec*> missing;  // every absent required field, reported together
  auto take = [&](const FieldSpec& f) {
    const boost::json::value* v = bus::find_ci(doc.get_object(), f.name);
    if (!v || v->is_null()) {
      if (f.required) missing.push_back(&f);
      if (f.kind == FieldKind::currency) ev.fields[f.name] = "ZMW";
      return;
    }
    auto out = reader.value(f, *v, sealer);
    if (out.is_null()) {
      if (f.required) reader.fail(f, "must not be empty");
      return;
    }
    ev.fields[f.name] = std::move(out);
  };
  for (const auto& f : common_fields()) take(f);
  for (const auto& f : spec.fields) take(f);
  if (missing.size() == 1) reader.fail(*missing[0], "is missing");
  if (!missing.empty()) {
    std::string names;
    for (const FieldSpec* f : missing) names += (names.empty() ? "'" : ", '") + std::string(f->name) + "'";
    throw Rejected(Rejected::Kind::invalid, "invalid_event",
                   std::string(spec.type) + ": fields " + names + " are missing");
  }

  ev.id = ev.text("eventId");
  if (ev.id.empty()) ev.id = std::string(message_id);
  if (ev.id.empty())
    throw Rejected(Rejected::Kind::invalid, "invalid_event",
                   type + ": field 'eventId' is missing (and the envelope has no messageId)");
  ev.fields["eventId"] = ev.id;
  ev.correlation_id = std::string(envelope_correlation_id);
  if (ev.correlation_id.empty()) ev.correlation_id = ev.text("correlationId");
  if (ev.correlation_id.empty()) ev.correlation_id = ev.id;
  if (auto ts = ev.text("eventTimestamp"); !ts.empty()) ev.timestamp = parse_iso8601(ts).value_or(0);
  return ev;
}

}  // namespace comms::intake
