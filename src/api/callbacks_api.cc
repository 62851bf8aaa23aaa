// Delivery reports from SMS providers. A report moves a Sent notification to
// Delivered or Failed (with its outbox event, in one unit of work); progress
// reports (submitted, buffered) change nothing and are counted and logged.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>

#include "api/handler.h"
#include "api/provider_routes.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "delivery/outcome.h"
#include "delivery/sms/africastalking/at_protocol.h"
#include "delivery/sms/kannel/kannel_protocol.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using Kind = delivery::ReportMeaning::Kind;

// A report can overtake the dispatcher's commit of the provider's message id (the provider answers
// our request and reports delivery before we have recorded its answer): look again for a second.
constexpr int kLookups = 6;
constexpr auto kLookupPause = std::chrono::milliseconds(200);

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The request's report fields: the query parameters, then (for form posts) the body's.
http::Fields report_fields(const Request& req) {
  http::Fields out = req.query;
  const auto ct = req.header("Content-Type");
  if (req.body.empty() || (ct && ct->find("application/x-www-form-urlencoded") == std::string_view::npos))
    return out;
  std::string_view body = req.body;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out.emplace_back(form_decode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

std::string field(const http::Fields& f, std::string_view name, std::size_t max_len, bool required) {
  for (const auto& [k, v] : f) {
    if (k != name) continue;
    if (v.size() > max_len)
      throw bad_request("field '" + std::string(name) + "' is longer than " + std::to_string(max_len) +
                        " bytes");
    return v;
  }
  if (required) throw bad_request("missing field '" + std::string(name) + "'");
  return {};
}

void digest(std::string_view s, unsigned char out[EVP_MAX_MD_SIZE]) {
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), out, &len, EVP_sha256(), nullptr);
}

// Constant-time: both sides are hashed first, so neither the content nor the length leaks.
void check_token(const http::Fields& f, const std::string& expected) {
  std::string given;
  for (const auto& [k, v] : f)
    if (k == "token") given = v;
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  digest(given, a);
  digest(expected, b);
  if (expected.empty() || given.empty() || CRYPTO_memcmp(a, b, 32) != 0)
    throw ApiError(401, "unauthorized", "missing or invalid callback token");
}

struct Report {
  std::string provider;
  std::string message_id;
  std::string status;  // the provider's own word for it, for logs and metrics
  std::string phone;   // masked
  delivery::ReportMeaning meaning;
};

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::delivered:
      return "delivered";
    case Kind::failed:
      return "failed";
    case Kind::progress:
      return "progress";
    case Kind::unknown:
      return "unknown";
  }
  return "unknown";
}

awaitable<Response> record(Context& ctx, const Report& r) {
  if (ctx.metrics) {
    ctx.metrics
        ->counter("comms_delivery_reports_total", "Delivery reports received, by provider and meaning",
                  {"provider", "meaning"})
        .labels({r.provider, kind_name(r.meaning.kind)})
        .inc();
  }
  boost::json::object body;
  body["received"] = true;
  body["meaning"] = kind_name(r.meaning.kind);
  if (r.meaning.kind == Kind::progress || r.meaning.kind == Kind::unknown) {
    log::info("delivery_report", {{"provider", r.provider},
                                  {"provider_message_id", r.message_id},
                                  {"status", r.status},
                                  {"meaning", kind_name(r.meaning.kind)},
                                  {"phone", r.phone}});
    co_return Response::json(200, body);
  }
  const bool delivered = r.meaning.kind == Kind::delivered;
  std::optional<domain::Notification> found;
  for (int attempt = 1; attempt <= kLookups; ++attempt) {
    found.reset();
    try {
      const auto now = now_ms();
      co_await ctx.write([&](store::UnitOfWork& uow) {
        found = uow.notifications().find_by_provider_message_id(r.provider, r.message_id);
        if (!found) return;
        auto events = delivery::apply_delivery_report(*found, delivered, r.meaning.reason, now);
        if (events.empty()) return;
        uow.notifications().update(*found);
        for (auto& e : events) uow.outbox().add(e);
      });
    } catch (const store::ConflictError&) {
      continue;  // the row changed under us (e.g. the dispatcher's own commit): read it again
    }
    if (found) break;
    if (attempt < kLookups) co_await sleep_for(kLookupPause);
  }
  if (!found) {
    // Answered 200 all the same, so that the provider does not retry forever.
    log::warn("delivery_report_unknown", {{"provider", r.provider},
                                          {"provider_message_id", r.message_id},
                                          {"status", r.status},
                                          {"phone", r.phone}});
    body["matched"] = false;
    co_return Response::json(200, body);
  }
  log::info("delivery_report", {{"provider", r.provider},
                                {"id", found->id},
                                {"status", r.status},
                                {"meaning", kind_name(r.meaning.kind)},
                                {"notification_status", domain::to_string(found->status)},
                                {"phone", r.phone}});
  body["matched"] = true;
  body["notificationId"] = found->id;
  body["notificationStatus"] = domain::to_string(found->status);
  co_return Response::json(200, body);
}

awaitable<Response> africastalking_report(Context& ctx, const std::string& token, Request& req) {
  const auto f = report_fields(req);
  check_token(f, token);
  Report r;
  r.provider = std::string(delivery::africastalking::kProvider);
  r.message_id = field(f, "id", 128, true);
  r.status = field(f, "status", 32, true);
  r.phone = log::mask_phone(field(f, "phoneNumber", 32, false));
  r.meaning = delivery::africastalking::classify_report(r.status, field(f, "failureReason", 256, false));
  co_return co_await record(ctx, r);
}

awaitable<Response> kannel_report(Context& ctx, const std::string& token, Request& req) {
  const auto f = report_fields(req);
  check_token(f, token);
  Report r;
  r.provider = std::string(delivery::kannel::kProvider);
  r.message_id = field(f, "id", 128, true);
  const auto type_text = field(f, "type", 8, true);
  int type = 0;
  const auto [p, ec] = std::from_chars(type_text.data(), type_text.data() + type_text.size(), type);
  if (ec != std::errc() || p != type_text.data() + type_text.size())
    throw bad_request("field 'type' must be an integer");
  r.status = "type " + type_text;
  r.meaning = delivery::kannel::classify_dlr(type, field(f, "reply", 256, false));
  co_return co_await record(ctx, r);
}

}  // namespace

void register_callback_routes(http::Router& router, Context& ctx, CallbackOptions options) {
  using http::Access;
  // Public: providers hold no JWT. Each handler checks the secret token in the URL.
  router.add("POST", "/api/v1/callbacks/africastalking/delivery", Access::anyone(),
             guarded([&ctx, token = options.africastalking_token](Request& r) {
               return africastalking_report(ctx, token, r);
             }));
  auto kannel =
      guarded([&ctx, token = options.kannel_token](Request& r) { return kannel_report(ctx, token, r); });
  router.add("GET", "/api/v1/callbacks/kannel/delivery", Access::anyone(), kannel);
  router.add("POST", "/api/v1/callbacks/kannel/delivery", Access::anyone(), kannel);
}

}  // namespace comms::api
