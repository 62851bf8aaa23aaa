// Lambdas and filters: C++ callables that a template calls by name.
//
// A Lambda follows the Mustache lambdas module; a Filter is the fast form the lending helpers use.
//
//   {{#name}}..{{/name}}  Lambda: called with the unprocessed section text (LambdaCall::text()).
//                         Filter: the engine renders the section body (unescaped) and passes the text; the
//                         filter appends its result, which the engine escapes for the channel. No
//                         allocation in steady state, and the result is never parsed as a template.
//   {{name}}              Lambda: called with an empty text(). Filter: called with an empty body.
//   {{^name}}..{{/name}}  a registered name is truthy: the inverted section never renders; nothing is called.
//
// How a name finds a callable (single-segment names only):
//   section and inverted tags: the registry first, then the context. A payload field called "date"
//     therefore never turns {{#date}}..{{/date}} off.
//   interpolation tags: the context first, then the registry ({{date}} shows a "date" field if there is one).
//   in every tag, a context value that is the marker object {"__lambda__": "registered name"} calls that
//     registered entry (the spec's "a lambda is a value in the context").
//
// What a Lambda returns (LambdaResult):
//   literal == false (the spec): text is a template. For a section it is compiled with the delimiters in
//     force at the section tag and rendered in place; for an interpolation it is compiled with the default
//     delimiters, rendered, then escaped like any {{value}} ({{{name}}} leaves it raw). A result that
//     fails to compile renders as empty.
//   literal == true: text is final. It is escaped per the channel (raw for {{{name}}}) and never parsed,
//     so data that contains "{{" cannot inject tags.
//
// Thread safety: a Lambdas registry is immutable after it is built and may be shared by concurrent
// renders; the callables it holds must then be safe to call concurrently. LambdaCall is valid only during
// the call it is passed to.
#pragma once
#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
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

// What a Lambda sees of the render in progress.
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

// body: the section rendered without escaping. Append the result to out (out arrives empty).
using Filter = std::function<void(std::string_view body, std::string& out)>;

// A small name -> callable registry (linear lookup: registries hold a handful of entries).
class Lambdas {
 public:
  struct Entry {
    std::string name;
    Lambda lambda;  // exactly one of lambda and filter is set
    Filter filter;
  };

  // Adds fn under name, replacing an earlier entry of the same name.
  Lambdas& add(std::string name, Lambda fn);
  Lambdas& add_filter(std::string name, Filter fn);
  // nullptr when name is not registered.
  const Entry* find(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }

 private:
  Entry& slot(std::string name);
  static unsigned bucket(std::string_view name);
  std::vector<Entry> entries_;
  // bucket(name) -> 1 + index in entries_; 0: no entry; kShared: several (scan). Most lookups are for
  // names that are not registered (every section tag asks), so they must be cheap to reject.
  static constexpr std::uint8_t kShared = 0xFF;
  std::array<std::uint8_t, 64> buckets_{};
};

}  // namespace comms::templates
