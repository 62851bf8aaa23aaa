// Logging: one call style for the whole service.
//
//   comms::log::info("notification_sent", {{"id", id}, {"channel", "sms"}});
//
// renders as logfmt (`event=notification_sent id=... channel=sms`) when the
// format is text, or as one JSON object per line when it is json. Values are
// strings; callers mask personal data before logging (see mask_phone), and never
// pass secrets or OTP codes. Thread-safe after init().
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace comms::log {

enum class Format { text, json };
enum class Level { debug, info, warn, error };

// Configures the process-wide logger (stderr). Call once at start-up.
void init(Format format, Level level);

using Field = std::pair<std::string_view, std::string_view>;
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::info, e, f); }
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::warn, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::error, e, f); }

bool enabled(Level level);

// "+260971234567" -> "+260*****4567": keeps the country code and last 4 digits.
std::string mask_phone(std::string_view phone);
// "mwansa@example.com" -> "m*****@example.com".
std::string mask_email(std::string_view email);

}  // namespace comms::log
