// Time helpers. All persisted times are milliseconds since the Unix epoch (UTC).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace comms {

using Millis = std::int64_t;

// Wall-clock now, in ms since the epoch. Thread-safe.
Millis now_ms();

// Formats ms-since-epoch as ISO-8601 UTC with millisecond precision:
// "2026-11-27T04:26:45.123Z". 0 formats as an empty string (a NULL time).
std::string format_iso8601(Millis ms);

// Parses ISO-8601: "2026-11-27", "2026-11-27T04:26:45Z", with optional
// fractional seconds and a "+02:00" style offset. nullopt when malformed.
std::optional<Millis> parse_iso8601(std::string_view text);

}  // namespace comms
