#include "http/message.h"

#include <boost/json.hpp>

#include "http/text.h"

namespace comms::http {
namespace {

std::optional<std::string_view> find_field(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Role r) {
  switch (r) {
    case Role::none:
      return "none";
    case Role::customer:
      return "customer";
    case Role::staff:
      return "staff";
    case Role::service:
      return "service";
    case Role::admin:
      return "admin";
  }
  return "none";
}

std::optional<Role> parse_role(std::string_view s) {
  for (Role r : {Role::customer, Role::staff, Role::service, Role::admin}) {
    if (iequals(s, to_string(r))) return r;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_field(headers, name);
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_field(headers, name);
}

Response Response::json(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = boost::json::serialize(body);
  return r;
}

Response Response::error(int status, std::string_view code, std::string_view message,
                         std::string_view request_id) {
  return json(status, {{"error", {{"code", code}, {"message", message}, {"requestId", request_id}}}});
}

}  // namespace comms::http
