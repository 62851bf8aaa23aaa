// The Africa's Talking SMS API contract, as pure functions: the request form,
// the response and its per-recipient status codes, costs, and delivery
// reports. No I/O, so every rule here is unit-tested on its own.
// The mapping and its reasons are documented in docs/providers.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/resilience/provider.h"
#include "delivery/sms/delivery_report.h"

namespace comms::delivery::africastalking {

inline constexpr std::string_view kProvider = "africastalking";

// The POST body of {base}/version1/messaging. `numbers` are comma-joined into `to`.
std::string messaging_form(std::string_view username, const std::vector<std::string>& numbers,
                           std::string_view message, std::string_view sender_id, bool enqueue);

struct Cost {
  std::int64_t micros = 0;  // millionths of the currency unit
  std::string currency;     // empty when the cost is "0" or absent
};
// "ZMW 0.2500" -> {250000, "ZMW"}; "KES 1.0000", "USD 0.0035", "NGN 2,200.50"; "0" -> {0, ""}.
// nullopt when the text is malformed. Digits past the sixth decimal are rounded half up.
std::optional<Cost> parse_cost(std::string_view text);

struct Recipient {
  int status_code = 0;
  std::string status;
  std::string number;
  std::string message_id;
  Cost cost;
};

struct Response {
  std::string summary;  // SMSMessageData.Message
  std::vector<Recipient> recipients;
};
// Parses a 2xx JSON body. nullopt (and `error` set) when it is not the documented shape.
std::optional<Response> parse_response(std::string_view body, std::string* error = nullptr);

struct StatusMeaning {
  Fault fault = Fault::none;
  std::string alert;  // non-empty when an operator must act
};
// Per-recipient statusCode: 100/101/102 accepted; the rest as in docs/providers.md.
StatusMeaning classify_status(int status_code);

// A non-2xx HTTP answer (the request was processed and answered, so nothing is ambiguous except
// a gateway timeout, where an upstream may have processed it).
ProviderResult classify_http_error(long http_status, std::string_view body);

// A delivery report's `status` field (Success, Failed, Rejected, Sent, Submitted, Buffered,
// Expired, AbsentSubscriber) with its `failureReason`.
ReportMeaning classify_report(std::string_view status, std::string_view failure_reason);

// Digits only, for matching a response's "number" with what we sent ("+260 97..." == "26097...").
std::string number_key(std::string_view number);

}  // namespace comms::delivery::africastalking
