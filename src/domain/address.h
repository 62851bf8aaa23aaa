// Address validation for recipients and explicit `to` overrides. Pure.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace comms::domain {

// E.164: '+', then 8 to 15 digits, the first not 0 (e.g. +260971234567).
bool is_e164(std::string_view phone);
// To E.164, as the other IntelliFin services write numbers: "0971234567" -> "+260971234567" (the
// Zambian national format), "260971234567" -> "+260971234567", "+44 20 7946 0958" -> "+442079460958";
// spaces, dashes, dots and parentheses are ignored. nullopt when it is not a phone number.
std::optional<std::string> normalize_phone(std::string_view text);
// A pragmatic check: one '@', a non-empty local part, a dotted domain, no
// spaces or control characters, at most 254 bytes.
bool is_email(std::string_view email);
// An IANA time zone name that this machine's tz database knows (e.g. Africa/Lusaka).
bool is_known_timezone(std::string_view tz);
// A BCP-47-ish language tag: 2-3 letters, optionally "-" and 2-8 alphanumerics (en, bem, ny, en-ZM).
bool is_language_tag(std::string_view tag);

}  // namespace comms::domain
