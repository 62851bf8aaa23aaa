// Route table: method + path pattern -> handler, with the access rule that each
// route must declare (there is no default: every route is authorized on purpose).
//
// Patterns are literal segments and `{name}` segments ("/api/v1/notifications/{id}"); a `{name}`
// segment matches one non-empty path segment. No regex. When several patterns match a path, the
// one whose first differing segment is literal wins ("/n/stats" beats "/n/{id}"). Matching is
// exact: no trailing-slash or case folding.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "http/message.h"

namespace comms::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// Who may call a route.
struct Access {
  bool is_public = false;   // no token needed (health, metrics, provider callbacks with their own secret)
  std::vector<Role> roles;  // otherwise: one of these roles (admin is always allowed)
  static Access anyone() { return Access{true, {}}; }
  static Access roles_of(std::initializer_list<Role> r) { return Access{false, r}; }
  bool allows(Role r) const;
};

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/notifications/{id}"
  Access access;
  Handler handler;
};

struct Match {
  const Route* route = nullptr;      // nullptr: no route
  bool path_matched = false;         // a route has this path, for another method (405)
  std::vector<std::string> allowed;  // methods for the path, when path_matched
  Fields params;
};

// Thread-safe for concurrent match() after all add() calls are done. Route pointers returned by
// match() stay valid for the Router's lifetime once add() calls are over.
class Router {
 public:
  // Throws std::invalid_argument for a malformed pattern or a duplicate (method, pattern).
  void add(std::string method, std::string pattern, Access access, Handler handler);
  Match match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter name
    bool param = false;
  };
  struct Compiled {
    std::vector<Segment> segments;
    std::uint64_t specificity = 0;  // bit (63 - i) set when segment i is literal
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;  // parallel to routes_
};

}  // namespace comms::http
