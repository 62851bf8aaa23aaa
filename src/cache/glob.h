// Glob matching for cache keys: '*' matches any run of bytes (also empty),
// '?' exactly one byte, '\' makes the next byte literal. Pure; thread-safe.
#pragma once
#include <string_view>

namespace comms::cache {

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace comms::cache
