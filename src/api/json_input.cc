#include "api/json_input.h"

#include <boost/json.hpp>
#include <charconv>

#include "api/api_error.h"

namespace comms::api {
namespace {

const boost::json::value* field_value(const boost::json::object& o, std::string_view f) {
  auto it = o.find(f);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

[[noreturn]] void wrong_type(std::string_view f, std::string_view type) {
  throw bad_request("field '" + std::string(f) + "' must be " + std::string(type));
}

}  // namespace

boost::json::object parse_object(std::string_view body, std::initializer_list<std::string_view> allowed) {
  if (body.empty()) throw bad_request("request body is empty; expected a JSON object");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) throw bad_request("malformed JSON: " + ec.message());
  if (!v.is_object()) throw bad_request("request body must be a JSON object");
  for (const auto& kv : v.get_object()) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) throw bad_request("unknown field '" + std::string(kv.key()) + "'");
  }
  return std::move(v.get_object());
}

std::optional<std::string> optional_string(const boost::json::object& o, std::string_view f, std::size_t max_len) {
  const auto* v = field_value(o, f);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(f, "a string");
  const auto& s = v->get_string();
  if (s.size() > max_len)
    throw bad_request("field '" + std::string(f) + "' is longer than " + std::to_string(max_len) + " bytes");
  return std::string(s);
}

std::string required_string(const boost::json::object& o, std::string_view f, std::size_t max_len) {
  auto s = optional_string(o, f, max_len);
  if (!s) throw bad_request("missing field '" + std::string(f) + "'");
  if (s->empty()) throw bad_request("field '" + std::string(f) + "' must not be empty");
  return *s;
}

std::optional<long long> optional_int(const boost::json::object& o, std::string_view f, long long lo,
                                      long long hi) {
  const auto* v = field_value(o, f);
  if (!v) return std::nullopt;
  long long n;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(hi)) {
    n = static_cast<long long>(v->get_uint64());
  } else {
    wrong_type(f, "an integer");
  }
  if (n < lo || n > hi)
    throw bad_request("field '" + std::string(f) + "' must be between " + std::to_string(lo) + " and " +
                      std::to_string(hi));
  return n;
}

std::optional<bool> optional_bool(const boost::json::object& o, std::string_view f) {
  const auto* v = field_value(o, f);
  if (!v) return std::nullopt;
  if (!v->is_bool()) wrong_type(f, "a boolean");
  return v->get_bool();
}

const boost::json::object* optional_object(const boost::json::object& o, std::string_view f) {
  const auto* v = field_value(o, f);
  if (!v) return nullptr;
  if (!v->is_object()) wrong_type(f, "an object");
  return &v->get_object();
}

int int_query(const http::Request& req, std::string_view name, int def, int lo, int hi) {
  const auto v = req.query_param(name);
  if (!v) return def;
  int out = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < lo || out > hi)
    throw bad_request("query parameter '" + std::string(name) + "' must be an integer from " +
                      std::to_string(lo) + " to " + std::to_string(hi));
  return out;
}

}  // namespace comms::api
