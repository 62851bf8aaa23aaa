// SMS encoding and segment count for a message body (pure function, no I/O, thread-safe).
//
// A body is sent as GSM-7 when every character is in the GSM 03.38 default alphabet or its extension
// table, else as UCS-2. Extension characters (form feed ^ { } \ [ ] ~ | €) take two septets (escape +
// code). UCS-2 counts UTF-16 code units, so a character outside the BMP (most emoji) counts 2.
//
// Segments: GSM-7 fits 160 septets in one SMS, or 153 per part when concatenated; UCS-2 fits 70 units, or
// 67 per part. Parts never split an escape sequence or a surrogate pair (a character that does not fit
// moves whole to the next part), so the count can exceed ceil(characters / 153) by one. An empty body
// has 0 characters and 0 segments.
//
// Invalid UTF-8 never fails: each invalid sequence counts as one U+FFFD, which forces UCS-2.
#pragma once
#include <string_view>

namespace comms::domain {

enum class SmsCharset { gsm7, ucs2 };

struct SmsEncoding {
  SmsCharset encoding = SmsCharset::gsm7;
  int characters = 0;  // septets for GSM-7, UTF-16 code units for UCS-2
  int segments = 0;
};

SmsEncoding analyze_sms(std::string_view utf8);

}  // namespace comms::domain
