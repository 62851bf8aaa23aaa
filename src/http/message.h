// Protocol-level HTTP request/response values seen by middleware and handlers.
// Deliberately free of Beast so that handlers compile fast; the server converts.
#pragma once
#include <boost/json/fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comms::http {

enum class Role { none, customer, staff, service, admin };
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

// Who made the request, as proven by a verified JWT.
struct Principal {
  std::string sub;
  Role role = Role::none;
  std::string branch;  // the "branch" claim, for staff
  bool authenticated() const { return role != Role::none; }
};

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // upper case, e.g. "POST"
  std::string target;  // as received, e.g. "/api/v1/notifications?page=2"
  std::string path;    // percent-decoded path, no query
  Fields query;        // percent-decoded query parameters, in order
  Fields headers;      // names as received
  std::string body;
  std::string remote_ip;
  std::string request_id;  // set by the request-id middleware
  std::string route;       // the matched route pattern (for metrics), e.g. "/api/v1/notifications/{id}"
  Fields params;           // path parameters captured by the router
  Principal principal;     // set by the auth middleware

  // Case-insensitive header lookup; the first match.
  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string_view> query_param(std::string_view name) const;
  std::string_view param(std::string_view name) const;  // "" if absent
};

struct Response {
  int status = 200;
  Fields headers;
  std::string body;

  void set_header(std::string name, std::string value);
  std::optional<std::string_view> header(std::string_view name) const;

  // JSON body with Content-Type application/json.
  static Response json(int status, const boost::json::value& body);
  // The one error shape: {"error":{"code","message","requestId"}}.
  static Response error(int status, std::string_view code, std::string_view message,
                        std::string_view request_id);
};

}  // namespace comms::http
