// Identifier generation. Thread-safe.
#pragma once
#include <string>

namespace comms {

// A random (version 4) UUID in canonical lowercase form, as MassTransit and
// .NET services use for message and entity ids.
std::string new_uuid();

// True when `s` is a canonical 8-4-4-4-12 hex UUID (any case).
bool is_uuid(std::string_view s);

}  // namespace comms
