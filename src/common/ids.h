// Identifier generation. Thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace comms {

// A time-ordered UUID (RFC 9562 version 7: 48-bit Unix milliseconds, then 74
// random bits) in canonical lowercase form. Ids made later sort later, so
// inserting them appends to the right edge of a B-tree index instead of
// dirtying a random page per row (the reason MassTransit uses NewId for the
// same job). Still unguessable enough for ids: 74 random bits.
std::string new_uuid();

// True when `s` is a canonical 8-4-4-4-12 hex UUID (any case).
bool is_uuid(std::string_view s);

}  // namespace comms
