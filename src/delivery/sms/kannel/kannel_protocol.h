// Kannel's HTTP sendsms interface (the seed's LegacyProviderAdapter) as pure
// functions: the request URL, the reply, and delivery-report types.
#pragma once
#include <string>
#include <string_view>

#include "delivery/resilience/provider.h"
#include "delivery/sms/delivery_report.h"

namespace comms::delivery::kannel {

inline constexpr std::string_view kProvider = "kannel";
// Every report type: 1 delivered, 2 failed, 4 buffered, 8 SMSC submit, 16 SMSC reject.
inline constexpr int kDlrMask = 31;

struct SendSms {
  std::string base_url;  // http://host:13013
  std::string username;
  std::string password;
  std::string from;
  std::string to;
  std::string text;     // UTF-8
  std::string dlr_url;  // complete callback URL with Kannel's %-escapes; empty = no reports
};
// GET {base}/cgi-bin/sendsms?username&password&from&to&text&charset=UTF-8&coding=0|2[&dlr-mask&dlr-url].
// coding is 0 (GSM 7-bit) when the text fits the GSM alphabet, else 2 (UCS-2).
std::string sendsms_url(const SendSms& s);

// Our delivery-report endpoint for one notification, as Kannel must call it:
// {public_base}/api/v1/callbacks/kannel/delivery?token=..&id=..&type=%d&reply=%A
std::string dlr_callback_url(std::string_view public_base, std::string_view token,
                             std::string_view notification_id);

// A completed HTTP exchange: "0: Accepted for delivery" and "3: Queued for later delivery"
// (HTTP 202) are accepted; the rest are classified as in docs/providers.md.
ProviderResult classify_reply(long http_status, std::string_view body);

// A delivery report's type (%d) and the SMSC's reply text (%A).
ReportMeaning classify_dlr(int type, std::string_view reply);

// True when every character of the UTF-8 text is in the GSM 03.38 alphabet (or its extension table).
bool is_gsm7(std::string_view utf8);

}  // namespace comms::delivery::kannel
