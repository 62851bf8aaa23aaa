// Internal to src/templates: the first compile pass. It finds every tag (following set-delimiter tags),
// splits names, matches sections with their closing tags, and marks the tags that stand alone on their
// line (the spec's standalone rule, plus the inheritance module's tag pairs).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "templates/program.h"

namespace comms::templates::detail {

enum class TagKind : std::uint8_t {
  var,         // {{x}}
  raw_var,     // {{{x}}} {{&x}}
  section,     // {{#x}}
  inverted,    // {{^x}}
  close,       // {{/x}}
  comment,     // {{!x}}
  partial,     // {{>x}}
  delimiters,  // {{=<% %>=}}
  parent,      // {{<x}}
  block,       // {{$x}}
};

struct Tag {
  TagKind kind = TagKind::var;
  std::uint32_t start = 0, end = 0;  // the tag, delimiters included
  Span content;                      // trimmed text after the sigil
  bool dynamic = false;              // {{>*x}} / {{<*x}}: name is resolved in the context
  std::uint32_t name = 0;            // Program::names index (var, raw_var, section, inverted, dynamic)
  std::uint32_t delims = 0;          // Program::delims index in force at this tag
  int match = -1;                    // open tag <-> its close tag
  int owner = -1;                    // innermost enclosing open tag
  // What the tag removes from the output: [emit_start, start) and [end, emit_end). A standalone tag takes
  // its leading whitespace and (mostly) its line ending with it.
  std::uint32_t emit_start = 0, emit_end = 0;
  bool standalone = false;
};

constexpr int kMaxNesting = 100;

// Fills prog.names, prog.segs, prog.delims (prog.pool must already hold the source and the initial
// delimiters as delims[0]) and returns the tags, or the first error in source order.
std::optional<ParseError> scan(Program& prog, std::vector<Tag>& tags);

// 1-based line and column (in code points) of byte offset pos.
ParseError error_at(std::string_view source, std::size_t pos, std::string message);

}  // namespace comms::templates::detail
