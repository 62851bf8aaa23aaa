// Lambdas: C++ callables that a template calls by name, as in the Mustache lambdas module. The lending
// helpers (helpers.h) are lambdas too.
//
//   {{name}}            an interpolation lambda: called with an empty text().
//   {{#name}}..{{/name}} a section lambda: called with the unprocessed section text.
//   {{^name}}..{{/name}} a lambda is truthy: the inverted section never renders, the lambda is not called.
//
// A name resolves to a lambda when (1) the context has no key of that name at any level and a Lambdas
// registry given to render() has it (single-segment names only), or (2) the value found in the context is
// the marker object {"__lambda__": "registered name"}. Context data therefore wins over helpers.
//
// What a lambda returns (LambdaResult):
//   literal == false (the spec): text is a template. For a section it is compiled with the delimiters in
//     force at the section tag and rendered in place; for an interpolation it is compiled with the default
//     delimiters, rendered, then escaped like any {{value}} ({{{name}}} leaves it raw). A result that
//     fails to compile renders as empty.
//   literal == true: text is final. It is escaped per the channel (raw for {{{name}}}) and never parsed,
//     so data that contains "{{" cannot inject tags. Helpers return literal text.
//
// Thread safety: a Lambdas registry is immutable after it is built and may be shared by concurrent
// renders; the callables it holds must then be safe to call concurrently. LambdaCall is valid only during
// the call it is passed to.
#pragma once
#include <boost/json/value.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comms::templates {

namespace detail {
class Renderer;
struct Program;
}  // namespace detail

struct LambdaResult {
  std::string text;
  bool literal = false;
};

// What a lambda sees of the render in progress.
class LambdaCall {
 public:
  bool is_section() const { return section_; }
  // The unprocessed section text (between the tags); empty for an interpolation.
  std::string_view text() const { return text_; }
  // Renders the section body in the current context, without escaping, and appends it to out. Cheaper
  // than compiling text(): the body was compiled with the template. Appends nothing for an interpolation.
  void render_body(std::string& out) const;
  std::string render_body() const;
  // Resolves a dotted name ("loan.amount", ".") in the current context stack; nullptr when missing.
  const boost::json::value* find(std::string_view dotted_name) const;

 private:
  friend class detail::Renderer;
  LambdaCall() = default;
  detail::Renderer* renderer_ = nullptr;
  const detail::Program* program_ = nullptr;
  const void* context_ = nullptr;  // the renderer's context stack frame
  std::uint32_t body_begin_ = 0, body_end_ = 0;
  std::string_view text_;
  bool section_ = false;
};

using Lambda = std::function<LambdaResult(const LambdaCall&)>;

// A small name -> Lambda registry (linear lookup: registries hold a handful of entries).
class Lambdas {
 public:
  // Adds fn under name, replacing an earlier entry of the same name.
  Lambdas& add(std::string name, Lambda fn);
  // nullptr when name is not registered.
  const Lambda* find(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, Lambda>> entries_;
};

}  // namespace comms::templates
