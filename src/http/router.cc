#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace comms::http {
namespace {

constexpr std::size_t kMaxSegments = 64;

// Splits "/a/b/c" into {"a","b","c"}; "/" gives {}. False when the path is not absolute or too deep.
bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.push_back(
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (out.size() > kMaxSegments) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

bool Access::allows(Role r) const {
  if (is_public || r == Role::admin) return true;
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

void Router::add(std::string method, std::string pattern, Access access, Handler handler) {
  std::vector<std::string_view> parts;
  if (!split_path(pattern, parts))
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  Compiled c;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    const bool open = part.starts_with('{');
    const bool close = part.ends_with('}');
    if (open != close || (open && part.size() < 3) ||
        part.substr(open ? 1 : 0, part.size() - (open ? 2 : 0)).find_first_of("{}") !=
            std::string_view::npos) {
      throw std::invalid_argument("malformed route segment '" + std::string(part) + "' in " + pattern);
    }
    if (part.empty()) throw std::invalid_argument("empty route segment in " + pattern);
    if (open) {
      c.segments.push_back({std::string(part.substr(1, part.size() - 2)), true});
    } else {
      c.segments.push_back({std::string(part), false});
      c.specificity |= std::uint64_t{1} << (63 - i);
    }
  }
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      throw std::invalid_argument("duplicate route " + method + " " + pattern);
    }
  }
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(access), std::move(handler)});
  compiled_.push_back(std::move(c));
}

Match Router::match(std::string_view method, std::string_view path) const {
  thread_local std::vector<std::string_view> parts;
  Match m;
  if (!split_path(path, parts)) return m;

  auto matches = [&](const Compiled& c) {
    if (c.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (c.segments[i].param ? parts[i].empty() : c.segments[i].text != parts[i]) return false;
    }
    return true;
  };

  std::size_t best = routes_.size();
  bool any_path = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!matches(compiled_[i])) continue;
    any_path = true;
    if (routes_[i].method == method &&
        (best == routes_.size() || compiled_[i].specificity > compiled_[best].specificity)) {
      best = i;
    }
  }
  if (best != routes_.size()) {
    m.route = &routes_[best];
    const auto& segs = compiled_[best].segments;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].param) m.params.emplace_back(segs[i].text, parts[i]);
    }
    return m;
  }
  if (any_path) {
    m.path_matched = true;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
      if (matches(compiled_[i]) &&
          std::find(m.allowed.begin(), m.allowed.end(), routes_[i].method) == m.allowed.end()) {
        m.allowed.push_back(routes_[i].method);
      }
    }
  }
  return m;
}

}  // namespace comms::http
