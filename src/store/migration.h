// A versioned schema migration step, shared by every backend.
//
// Each backend keeps its own ordered list of steps (its SQL dialect lives in its
// folder) with the same versions and names, so a database of either kind at
// version N has the same tables. A step is applied in its own transaction
// together with its schema_migrations row (version, name, applied_at).
// Plain values: thread-compatible.
#pragma once
#include <span>
#include <string_view>

namespace comms::store {

struct Migration {
  int version;            // 1, 2, 3, ... with no gaps
  std::string_view name;  // snake_case, recorded in schema_migrations
  std::string_view sql;   // one or more statements, no transaction control
};

// The highest version in `steps` (0 when empty).
inline int latest_version(std::span<const Migration> steps) {
  return steps.empty() ? 0 : steps.back().version;
}

}  // namespace comms::store
