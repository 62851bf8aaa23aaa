// Mustache templates for notification bodies: compile once, render many times.
//
//   auto compiled = templates::compile("Dear {{name}}, K{{amount}} is due.");
//   if (!compiled) return compiled.error();          // ParseError: line, column, message
//   std::string body;
//   templates::render(compiled.value(), context, {.escape = templates::Escape::none}, body);
//
// Supports the whole Mustache spec (interpolation, sections, inverted sections, comments, partials, set
// delimiters) and its optional modules: lambdas, dynamic names ({{>*name}}), inheritance ({{<parent}},
// {{$block}}). See docs/templates.md for the syntax, the helpers and the escaping per channel.
//
// Thread safety: a Template is immutable; any number of threads may render the same Template at once.
// compile() and render() share no mutable state between threads (render() reuses per-thread scratch
// buffers for filters). Copying a Template is cheap (it shares the compiled form).
#pragma once
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace comms::templates {

namespace detail {
struct Program;
struct TemplateAccess;
}  // namespace detail

class Lambdas;
class PartialResolver;

// How interpolated values ({{x}}) are escaped. Literal template text is never escaped, and {{{x}}} / {{&x}}
// are never escaped in any mode.
enum class Escape {
  html,  // email HTML bodies: & < > " ' become entities (the Mustache spec's escaping)
  none,  // SMS text: values are copied as they are
  json,  // in-app payloads: the value is safe inside a JSON string literal (" \ control chars, U+2028/9)
};

// A template that failed to compile. line and column are 1-based; column counts Unicode code points.
struct ParseError {
  int line = 0;
  int column = 0;
  std::string message;
};

// A compiled template. Default-constructed, it is the empty template and renders nothing.
class Template {
 public:
  Template();
  // The source the template was compiled from.
  std::string_view source() const;

 private:
  friend struct detail::TemplateAccess;
  explicit Template(std::shared_ptr<const detail::Program> p) : prog_(std::move(p)) {}
  std::shared_ptr<const detail::Program> prog_;
};

// Either a Template or the first ParseError in the source.
class CompileResult {
 public:
  CompileResult(Template t) : v_(std::move(t)) {}
  CompileResult(ParseError e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // REQUIRES: ok().
  const Template& value() const& { return std::get<0>(v_); }
  Template&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok().
  const ParseError& error() const { return std::get<1>(v_); }

 private:
  std::variant<Template, ParseError> v_;
};

struct CompileOptions {
  // The delimiters in force at the start of the source. Both must be non-empty and free of whitespace.
  std::string_view open_delimiter = "{{";
  std::string_view close_delimiter = "}}";
};

// Compiles source. Never throws on bad input: malformed templates (unclosed or mismatched sections,
// unclosed tags, bad set-delimiter tags, invalid names, nesting deeper than 100) yield a ParseError.
CompileResult compile(std::string_view source, const CompileOptions& options = {});

struct RenderOptions {
  Escape escape = Escape::html;
  // Resolves {{>name}} and {{<name}}. nullptr: every partial renders as empty.
  const PartialResolver* partials = nullptr;
  // Lambdas, filters and helpers by name; see lambdas.h for how a name finds one. nullptr: none.
  const Lambdas* lambdas = nullptr;
  // Strict mode: when set, the dotted names of interpolations and sections that resolved to nothing are
  // appended here, each name once, in order of first use. Inverted sections never count as missing.
  std::vector<std::string>* missing = nullptr;
  // Safety limits against exponential templates (a loop nested in a loop over the same list,
  // {{>self}}{{>self}}, ...). Hitting one stops the render early and render() returns false.
  std::size_t max_output_bytes = 4u << 20;  // bytes this render appends (checked per section body)
  long max_bodies = 100'000;                // section bodies and expansions rendered (each iteration counts)
};

// Renders t against context and appends the result to out (out is not cleared). Missing names render as
// empty (Mustache spec). Returns true when the output is complete, false when a limit cut it short: the
// RenderOptions limits, or expansions (partials, parents, lambda results) nested deeper than 100.
// Never throws except std::bad_alloc and exceptions thrown by user lambdas.
[[nodiscard]] bool render(const Template& t, const boost::json::value& context, const RenderOptions& options,
                          std::string& out);

// Convenience for tests and previews (it drops the completeness flag).
std::string render(const Template& t, const boost::json::value& context, const RenderOptions& options = {});

}  // namespace comms::templates
