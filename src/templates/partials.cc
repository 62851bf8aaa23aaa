#include "templates/partials.h"

namespace comms::templates {

std::optional<ParseError> PartialMap::add(std::string name, std::string_view source) {
  CompileResult r = compile(source);
  if (!r) return r.error();
  templates_.insert_or_assign(std::move(name), std::move(r).value());
  return std::nullopt;
}

const Template* PartialMap::find(std::string_view name) const {
  auto it = templates_.find(name);
  return it == templates_.end() ? nullptr : &it->second;
}

}  // namespace comms::templates
