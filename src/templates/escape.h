// Internal to src/templates: escaping of interpolated values per channel (see Escape in template.h).
#pragma once
#include <string>
#include <string_view>

#include "templates/template.h"

namespace comms::templates::detail {

// Appends s to out, escaped for e.
void append_escaped(std::string& out, std::string_view s, Escape e);

}  // namespace comms::templates::detail
