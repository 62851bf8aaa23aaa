#include "templates/lambdas.h"

namespace comms::templates {

Lambdas& Lambdas::add(std::string name, Lambda fn) {
  for (auto& [n, f] : entries_) {
    if (n == name) {
      f = std::move(fn);
      return *this;
    }
  }
  entries_.emplace_back(std::move(name), std::move(fn));
  return *this;
}

const Lambda* Lambdas::find(std::string_view name) const {
  for (const auto& [n, f] : entries_) {
    if (n == name) return &f;
  }
  return nullptr;
}

}  // namespace comms::templates
