#include "delivery/sms/kannel/kannel_protocol.h"

#include <cctype>

#include "delivery/resilience/http_call.h"

namespace comms::delivery::kannel {
namespace {

// GSM 03.38 basic alphabet and extension table, as Unicode code points.
constexpr std::u32string_view kGsm =
    U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    U"¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€\f";

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s.substr(0, 200));
}

}  // namespace

bool is_gsm7(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    int len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (kGsm.find(cp) == std::u32string_view::npos) return false;
    i += len;
  }
  return true;
}

std::string sendsms_url(const SendSms& s) {
  std::string base = s.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/cgi-bin/sendsms?username=" + form_encode(s.username) +
                    "&password=" + form_encode(s.password) + "&to=" + form_encode(s.to) +
                    "&text=" + form_encode(s.text) + "&charset=UTF-8&coding=" + (is_gsm7(s.text) ? "0" : "2");
  if (!s.from.empty()) url += "&from=" + form_encode(s.from);
  if (!s.dlr_url.empty())
    url += "&dlr-mask=" + std::to_string(kDlrMask) + "&dlr-url=" + form_encode(s.dlr_url);
  return url;
}

std::string dlr_callback_url(std::string_view public_base, std::string_view token, std::string_view id) {
  std::string base(public_base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v1/callbacks/kannel/delivery?token=" + form_encode(token) + "&id=" + form_encode(id) +
         "&type=%d&reply=%A";
}

ProviderResult classify_reply(long status, std::string_view body) {
  const std::string provider(kProvider);
  const std::string text = trimmed(body);
  const std::string error = "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
  if (status >= 200 && status < 300) {
    if (text.starts_with("0:") || text.starts_with("3:") || text == "Sent.") {
      SendResult ok = SendResult::ok_from(provider);
      return ProviderResult::ok(std::move(ok));
    }
    // A success status with a reply we do not know: it may have been queued.
    return ProviderResult::failed(Fault::ambiguous, provider, error);
  }
  if (status == 401 || status == 403)
    return ProviderResult::failed(Fault::rejected, provider, error, "kannel_auth");
  if (status == 408 || status == 429) return ProviderResult::failed(Fault::unavailable, provider, error);
  if (status == 504) return ProviderResult::failed(Fault::ambiguous, provider, error);
  if (status >= 500) return ProviderResult::failed(Fault::unavailable, provider, error);
  return ProviderResult::failed(Fault::rejected, provider, error);
}

ReportMeaning classify_dlr(int type, std::string_view reply) {
  using K = ReportMeaning::Kind;
  const std::string r = trimmed(reply);
  auto with = [&r](std::string what) { return r.empty() ? what : what + ": " + r; };
  switch (type) {
    case 1:
      return {K::delivered, {}};
    case 2:
      return {K::failed, with("delivery failed")};
    case 4:
      return {K::progress, "buffered"};
    case 8:
      return {K::progress, "submitted to SMSC"};
    case 16:
      return {K::failed, with("rejected by SMSC")};
    default:
      return {K::unknown, "type " + std::to_string(type)};
  }
}

}  // namespace comms::delivery::kannel
