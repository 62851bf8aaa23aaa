// Feeds arbitrary bytes to compile() and, when they compile, renders them (escaping mode chosen by the
// input's length) with a fixed context, partials (including the input itself, to reach recursion), helpers
// and a lambda that re-renders its section text. Checks the error contract: 1-based positions and a message.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "templates/helpers.h"
#include "templates/lambdas.h"
#include "templates/partials.h"
#include "templates/template.h"

namespace {
using namespace comms::templates;

class Resolver : public PartialResolver {
 public:
  Resolver() {
    map_.add("row", "<li>{{name}} {{#money}}{{amount}}{{/money}}</li>\n");
    map_.add("parent", "[{{$a}}default a{{/a}}|{{$b}}\n  b\n{{/b}}]");
    map_.add("nest", "  {{>row}}\n{{<parent}}{{$a}}A{{/a}}{{/parent}}");
  }
  const Template* self = nullptr;
  const Template* find(std::string_view name) const override {
    if (name == "self") return self;
    return map_.find(name);
  }

 private:
  PartialMap map_;
};

const boost::json::value& context() {
  static const boost::json::value v = boost::json::parse(R"({
    "name": "Mwansa <&>", "amount": 1250.5, "due": "2025-03-15", "account": "0012345678", "n": 3,
    "t": true, "f": false, "z": null, "e": "", "dyn": "row", "self": "self",
    "items": [{"name": "a", "amount": 1}, {"name": "b", "amount": -2.5}, 7, "s", [1, [2]], {}],
    "loan": {"id": "L-1", "balance": {"amount": "99.995"}, "items": []},
    "fn": {"__lambda__": "echo"}, "bad": {"__lambda__": "missing"}
  })");
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Resolver resolver;
  static const Lambdas lambdas = [] {
    Lambdas l = default_helpers("bem", "Africa/Lusaka");
    l.add("echo", [](const LambdaCall& c) { return LambdaResult{std::string(c.text()), false}; });
    l.add("body", [](const LambdaCall& c) { return LambdaResult{c.render_body(), true}; });
    return l;
  }();
  std::string_view src(reinterpret_cast<const char*>(data), size);
  CompileResult r = compile(src);
  if (!r) {
    const ParseError& e = r.error();
    if (e.line < 1 || e.column < 1 || e.message.empty()) std::abort();
    return 0;
  }
  resolver.self = &r.value();
  std::vector<std::string> missing;
  std::string out;
  constexpr Escape kModes[] = {Escape::html, Escape::none, Escape::json};
  RenderOptions o{kModes[size % 3], &resolver, &lambdas, &missing};
  o.max_output_bytes = 64u << 10;  // small limits keep exponential inputs fast
  o.max_bodies = 5'000;
  (void)render(r.value(), context(), o, out);
  resolver.self = nullptr;
  return 0;
}
