// Internal to src/templates: the compiled form of a template. Other modules use template.h.
//
// A Program is a flat instruction vector plus a string pool. The pool is the template source followed by a
// few extra strings, so every literal, name segment and indentation is a span into it. Nested constructs
// (sections, parents, blocks) own the instruction range [pc + 1, end); rendering recurses over ranges, so no
// end-of-section instruction exists. A Program is immutable once compile() returns it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "templates/template.h"

namespace comms::templates::detail {

enum class Op : std::uint8_t {
  text,      // a, b: pool span. kMultiline: a '\n' occurs before the last byte. kLineStart: indent first.
  indent,    // a line of the source starts here: emit the current indentation.
  var,       // a: name index. kRaw: never escaped ({{{x}}}, {{&x}}).
  section,   // a: name, b, c: raw body span (for lambdas), d: delimiters index, e: end pc.
  inverted,  // a: name, e: end pc.
  partial,   // a, b: name span, or a: name index when kDynamic. c, d: indentation span (kStandalone).
  parent,    // as partial; e: end pc. The body holds only the block instructions passed as arguments.
  block,  // a, b: block name span. c, d: indentation span (kStandalone). e: end pc; body = default content.
};

inline constexpr std::uint8_t kRaw = 1;
inline constexpr std::uint8_t kMultiline = 2;
inline constexpr std::uint8_t kStandalone = 4;
inline constexpr std::uint8_t kDynamic = 8;
inline constexpr std::uint8_t kLineStart = 16;

struct Instr {
  Op op = Op::text;
  std::uint8_t flags = 0;
  std::uint32_t a = 0, b = 0, c = 0, d = 0, e = 0;
};

struct Span {
  std::uint32_t off = 0, len = 0;
};

// A dotted name split at compile time. seg_count == 0 is the implicit iterator ".".
struct Name {
  std::uint32_t first_seg = 0, seg_count = 0;
  Span text;  // the name as written, for strict mode reports
};

struct Delimiters {
  Span open, close;
};

struct Program {
  std::string pool;
  std::vector<Instr> code;
  std::vector<Name> names;
  std::vector<Span> segs;
  std::vector<Delimiters> delims;  // [0] is the set in force at the start
  std::size_t source_size = 0;     // pool[0, source_size) is the source
  std::size_t size_hint = 0;       // literal bytes: a first guess for the output size

  std::string_view str(Span s) const { return {pool.data() + s.off, s.len}; }
  std::string_view str(std::uint32_t off, std::uint32_t len) const { return {pool.data() + off, len}; }
};

// The one way in and out of Template's private compiled form.
struct TemplateAccess {
  static Template make(std::shared_ptr<const Program> p) { return Template(std::move(p)); }
  static const Program* program(const Template& t) { return t.prog_.get(); }
};

}  // namespace comms::templates::detail
