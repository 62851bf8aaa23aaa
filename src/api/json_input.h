// Strict reading of JSON request bodies: malformed JSON, wrong types, unknown
// fields and missing fields each raise a 400 ApiError that names the field.
#pragma once
#include <boost/json/object.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace comms::api {

// Parses `body` as a JSON object whose keys are all in `allowed`.
boost::json::object parse_object(std::string_view body, std::initializer_list<std::string_view> allowed);

// Typed field access. `required_*` raise "missing field 'x'"; all raise
// "field 'x' must be a <type>" on a type mismatch. Strings are limited to
// `max_len` bytes ("field 'x' is longer than N bytes"). JSON null counts as absent.
std::string required_string(const boost::json::object& o, std::string_view field, std::size_t max_len = 256);
std::optional<std::string> optional_string(const boost::json::object& o, std::string_view field,
                                           std::size_t max_len = 256);
std::optional<long long> optional_int(const boost::json::object& o, std::string_view field, long long lo,
                                      long long hi);
std::optional<bool> optional_bool(const boost::json::object& o, std::string_view field);
const boost::json::object* optional_object(const boost::json::object& o, std::string_view field);

// An integer query parameter in [lo, hi], `def` when absent; otherwise a 400
// "query parameter 'x' must be an integer from lo to hi".
int int_query(const http::Request& req, std::string_view name, int def, int lo, int hi);

}  // namespace comms::api
