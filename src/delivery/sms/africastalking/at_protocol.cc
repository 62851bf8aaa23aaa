#include "delivery/sms/africastalking/at_protocol.h"

#include <boost/json.hpp>
#include <cctype>

#include "delivery/resilience/http_call.h"

namespace comms::delivery::africastalking {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string string_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return {};
}

std::optional<int> int_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<int>(v->get_int64());
  if (v->is_uint64()) return static_cast<int>(v->get_uint64());
  if (v->is_string()) {
    const auto s = trim(v->get_string());
    if (s.empty() || s.size() > 6) return std::nullopt;
    int out = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      out = out * 10 + (c - '0');
    }
    return out;
  }
  return std::nullopt;
}

std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c == '\n' || c == '\r') ? ' ' : c;
  return trim(out);
}

}  // namespace

std::string messaging_form(std::string_view username, const std::vector<std::string>& numbers,
                           std::string_view message, std::string_view sender_id, bool enqueue) {
  std::string to;
  for (const auto& n : numbers) to += (to.empty() ? "" : ",") + n;
  std::string body =
      "username=" + form_encode(username) + "&to=" + form_encode(to) + "&message=" + form_encode(message);
  if (!sender_id.empty()) body += "&from=" + form_encode(sender_id);
  if (enqueue) body += "&enqueue=1";
  return body;
}

std::optional<Cost> parse_cost(std::string_view text) {
  const std::string t = trim(text);
  Cost out;
  std::string_view amount = t;
  if (const auto sp = t.find(' '); sp != std::string::npos) {
    out.currency = t.substr(0, sp);
    amount = std::string_view(t).substr(sp + 1);
    while (!amount.empty() && amount.front() == ' ') amount.remove_prefix(1);
    if (out.currency.empty() || out.currency.size() > 8) return std::nullopt;
    for (char c : out.currency)
      if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (amount.empty()) return std::nullopt;
  std::int64_t units = 0;
  std::int64_t frac = 0;
  int frac_digits = 0;
  bool round_up = false;
  bool seen_point = false;
  bool seen_digit = false;
  for (char c : amount) {
    if (c == ',' && !seen_point) continue;  // thousands separator
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    seen_digit = true;
    const int d = c - '0';
    if (!seen_point) {
      if (units > 9'000'000'000'000LL / 10) return std::nullopt;
      units = units * 10 + d;
    } else if (frac_digits < 6) {
      frac = frac * 10 + d;
      ++frac_digits;
    } else if (frac_digits == 6) {
      round_up = d >= 5;
      ++frac_digits;
    }
  }
  if (!seen_digit) return std::nullopt;
  for (int i = std::min(frac_digits, 6); i < 6; ++i) frac *= 10;
  out.micros = units * 1'000'000 + frac + (round_up ? 1 : 0);
  return out;
}

std::optional<Response> parse_response(std::string_view body, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Response> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  boost::system::error_code ec;
  const auto doc = boost::json::parse(body, ec);
  if (ec) return fail("reply is not JSON: " + ec.message());
  const auto* root = doc.if_object();
  const auto* data = root ? root->if_contains("SMSMessageData") : nullptr;
  if (!data || !data->is_object()) return fail("reply has no SMSMessageData object");
  const auto& d = data->get_object();
  Response out;
  out.summary = string_field(d, "Message");
  const auto* recipients = d.if_contains("Recipients");
  if (!recipients || !recipients->is_array()) return fail("reply has no Recipients array");
  for (const auto& v : recipients->get_array()) {
    if (!v.is_object()) return fail("a recipient is not an object");
    const auto& o = v.get_object();
    Recipient r;
    const auto code = int_field(o, "statusCode");
    if (!code) return fail("a recipient has no statusCode");
    r.status_code = *code;
    r.status = string_field(o, "status");
    r.number = string_field(o, "number");
    r.message_id = string_field(o, "messageId");
    if (r.message_id == "None") r.message_id.clear();
    if (const auto c = parse_cost(string_field(o, "cost"))) r.cost = *c;
    out.recipients.push_back(std::move(r));
  }
  return out;
}

StatusMeaning classify_status(int code) {
  switch (code) {
    case 100:  // Processed
    case 101:  // Success
    case 102:  // Queued
      return {Fault::none, {}};
    case 401:
      return {Fault::rejected, "RiskHold"};
    case 402:
      return {Fault::rejected, "InvalidSenderId"};
    case 403:  // InvalidPhoneNumber
    case 404:  // UnsupportedNumberType
    case 406:  // UserInBlacklist
    case 409:  // DoNotDisturbRejection
      return {Fault::rejected, {}};
    case 405:
      return {Fault::unavailable, "InsufficientBalance"};
    case 407:
      return {Fault::unroutable, {}};  // CouldNotRoute
    case 500:                          // InternalServerError
    case 501:                          // GatewayError
    case 502:                          // RejectedByGateway
      return {Fault::unavailable, {}};
    default:
      break;
  }
  if (code >= 400 && code < 500) return {Fault::rejected, {}};
  if (code >= 500 && code < 600) return {Fault::unavailable, {}};
  // An unknown code outside the failure ranges may be a new "accepted" code: never re-send it here.
  return {Fault::ambiguous, {}};
}

ProviderResult classify_http_error(long status, std::string_view body) {
  const std::string provider(kProvider);
  std::string error = "HTTP " + std::to_string(status);
  if (const auto s = snippet(body); !s.empty()) error += ": " + s;
  if (status == 401) return ProviderResult::failed(Fault::rejected, provider, error, "http_401_credentials");
  if (status == 408 || status == 429) return ProviderResult::failed(Fault::unavailable, provider, error);
  if (status == 504) return ProviderResult::failed(Fault::ambiguous, provider, error);
  if (status >= 500) return ProviderResult::failed(Fault::unavailable, provider, error);
  if (status >= 300 && status < 400)
    return ProviderResult::failed(Fault::rejected, provider, error, "http_redirect_misconfigured_url");
  return ProviderResult::failed(Fault::rejected, provider, error);
}

ReportMeaning classify_report(std::string_view status, std::string_view failure_reason) {
  using K = ReportMeaning::Kind;
  auto failed = [&](std::string_view what) {
    std::string reason(what);
    if (!failure_reason.empty()) reason += ": " + std::string(failure_reason);
    return ReportMeaning{K::failed, reason};
  };
  if (status == "Success") return {K::delivered, {}};
  if (status == "Failed" || status == "Rejected" || status == "Expired" || status == "AbsentSubscriber")
    return failed(status);
  if (status == "Sent" || status == "Submitted" || status == "Buffered")
    return {K::progress, std::string(status)};
  return {K::unknown, std::string(status)};
}

std::string number_key(std::string_view number) {
  std::string out;
  for (char c : number)
    if (std::isdigit(static_cast<unsigned char>(c))) out += c;
  return out;
}

}  // namespace comms::delivery::africastalking
