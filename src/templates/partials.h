// Partials and parents ({{>name}}, {{<name}}) are found through a PartialResolver given to render().
// Partials are compiled ahead of time, so rendering never parses.
//
// Thread safety: find() may be called by many renders at once; implementations must allow that.
// PartialMap is immutable once built (add() is not synchronized: finish adding before sharing it).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "templates/template.h"

namespace comms::templates {

class PartialResolver {
 public:
  virtual ~PartialResolver() = default;
  // The compiled template named name, or nullptr (the partial then renders as empty, per the spec). The
  // returned template must outlive the render.
  virtual const Template* find(std::string_view name) const = 0;
};

// The common case: a fixed set of named sources, compiled once.
class PartialMap : public PartialResolver {
 public:
  // Compiles source under name (replacing an earlier entry). On a ParseError nothing is stored.
  std::optional<ParseError> add(std::string name, std::string_view source);
  const Template* find(std::string_view name) const override;

 private:
  std::map<std::string, Template, std::less<>> templates_;
};

}  // namespace comms::templates
