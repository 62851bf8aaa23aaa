// Small text helpers shared by the SQL backends (store/sqlite, store/postgres).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace comms::store {

// The statement text in `sql`, on one line and shortened, for error messages.
inline std::string excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 80;
  std::string out(sql.substr(0, kMax));
  for (char& c : out)
    if (c == '\n' || c == '\t') c = ' ';
  if (sql.size() > kMax) out += "...";
  return out;
}

// `values` as one bound parameter: "[1,2,3]" (a JSON array for SQLite's json_each) or "{1,2,3}"
// (a PostgreSQL array literal). REQUIRES: !values.empty().
inline std::string integer_list(std::span<const std::int64_t> values, char open, char close) {
  std::string out(1, open);
  for (std::int64_t v : values) out += std::to_string(v) + ',';
  out.back() = close;
  return out;
}

}  // namespace comms::store
