// Escaping per channel, compile errors, strict mode, lambdas, partials and concurrency.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "templates/lambdas.h"
#include "templates/partials.h"
#include "templates/template.h"

namespace comms::templates {
namespace {
namespace json = boost::json;
using testing::ElementsAre;

Template must_compile(std::string_view src) {
  CompileResult r = compile(src);
  EXPECT_TRUE(r.ok()) << src << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : Template();
}

std::string render_with(std::string_view src, std::string_view data, Escape e) {
  RenderOptions o;
  o.escape = e;
  return render(must_compile(src), json::parse(data), o);
}

TEST(Escaping, HtmlEscapesValuesNotLiterals) {
  EXPECT_EQ(render_with("<p>{{x}}</p>", R"({"x":"<b>O'Brien & \"Co\"</b>"})", Escape::html),
            "<p>&lt;b&gt;O&#39;Brien &amp; &quot;Co&quot;&lt;/b&gt;</p>");
}

TEST(Escaping, NoneCopiesValuesAsTheyAre) {
  EXPECT_EQ(render_with("Hi {{x}}", R"({"x":"<b>O'Brien & Co</b>"})", Escape::none),
            "Hi <b>O'Brien & Co</b>");
}

TEST(Escaping, JsonMakesValuesSafeInsideStringLiterals) {
  std::string got =
      render_with(R"({"title":"{{x}}"})", R"({"x":"a\"b\\c\nd\te\u0001 \u2028<&>"})", Escape::json);
  EXPECT_EQ(got, R"({"title":"a\"b\\c\nd\te\u0001 \u2028<&>"})");
  // The output parses back to the original value.
  EXPECT_EQ(json::parse(got).at("title").as_string(), "a\"b\\c\nd\te\x01 \xE2\x80\xA8<&>");
}

TEST(Escaping, TripleMustacheIsRawInEveryMode) {
  for (Escape e : {Escape::html, Escape::json, Escape::none}) {
    EXPECT_EQ(render_with("{{{x}}}|{{&x}}", R"({"x":"<\"&>"})", e), "<\"&>|<\"&>");
  }
}

TEST(Values, NumbersBooleansAndContainers) {
  EXPECT_EQ(render_with("{{i}} {{u}} {{d}} {{t}} {{f}} [{{n}}] [{{a}}] [{{o}}]",
                        R"({"i":-42,"u":18446744073709551615,"d":1250.5,"t":true,"f":false,"n":null,
                            "a":[1],"o":{"k":1}})",
                        Escape::none),
            "-42 18446744073709551615 1250.5 true false [] [] []");
}

TEST(Values, NumbersPrintLikeJavaScript) {
  EXPECT_EQ(
      render_with("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}} {{i}} {{j}} {{k}}",
                  R"({"a":100000.0,"b":0.1,"c":1250.5,"d":-0.0,"e":123456789.125,"f":1e21,"g":1e-8,
                            "h":0.30000000000000004,"i":-1250.05,"j":1e20,"k":5e-7})",
                  Escape::none),
      "100000 0.1 1250.5 0 123456789.125 1e+21 1e-08 0.30000000000000004 -1250.05 100000000000000000000 "
      "0.0000005");
}

TEST(Values, EmptyStringIsFalsyZeroIsTruthy) {
  EXPECT_EQ(render_with("{{#s}}S{{/s}}{{^s}}-s{{/s}} {{#z}}Z{{/z}}", R"({"s":"","z":0})", Escape::none),
            "-s Z");
}

struct ErrorCase {
  std::string_view source;
  int line, column;
  std::string_view message_part;
};

TEST(CompileErrors, ReportLineColumnAndMessage) {
  const ErrorCase cases[] = {
      {"Hello {{#loan}}\nK{{amount}}", 1, 7, "unclosed section {{#loan}}"},
      {"a\n  {{#a}}{{/b}}", 2, 9, "{{/b}} does not match {{#a}} opened at line 2, column 3"},
      {"ok\n\n   {{/x}}", 3, 4, "unexpected closing tag"},
      {"line1\nx {{name", 2, 3, "unclosed tag"},
      {"{{=<% %>=}}\n<%name", 2, 1, "unclosed tag: no '%>'"},
      {"a {{=<%%>=}}", 1, 3, "invalid set-delimiter tag"},
      {"a {{= <% %> x =}}", 1, 3, "invalid set-delimiter tag"},
      {"{{a b}}", 1, 1, "whitespace"},
      {"{{}}", 1, 1, "empty tag"},
      {"{{a..b}}", 1, 1, "invalid dotted name"},
      {"Mwansa Chanda {{#x}}\n\xC3\xA9\xC3\xA9{{/y}}", 2, 3, "does not match"},  // columns count code points
      {"{{{x}}", 1, 1, "unclosed tag: no '}}}'"},
  };
  for (const ErrorCase& c : cases) {
    CompileResult r = compile(c.source);
    ASSERT_FALSE(r.ok()) << c.source;
    EXPECT_EQ(r.error().line, c.line) << c.source << ": " << r.error().message;
    EXPECT_EQ(r.error().column, c.column) << c.source << ": " << r.error().message;
    EXPECT_THAT(r.error().message, testing::HasSubstr(std::string(c.message_part))) << c.source;
  }
}

TEST(CompileErrors, NestingLimit) {
  std::string deep;
  for (int i = 0; i < 101; ++i) deep += "{{#a}}";
  CompileResult r = compile(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, testing::HasSubstr("nested deeper than 100"));
  std::string ok;
  for (int i = 0; i < 100; ++i) ok += "{{#a}}";
  for (int i = 0; i < 100; ++i) ok += "{{/a}}";
  EXPECT_TRUE(compile(ok).ok());
}

TEST(StrictMode, CollectsEachMissingNameOnce) {
  Template t = must_compile(
      "{{name}} {{loan.amount}} {{loan.due}} {{#overdue}}x{{/overdue}}{{^absent}}{{/absent}} {{name}} "
      "{{nick}} {{nick}} {{.}}");
  std::vector<std::string> missing;
  RenderOptions o;
  o.missing = &missing;
  std::string out = render(t, json::parse(R"({"name":"Mwansa","loan":{"amount":5}})"), o);
  EXPECT_EQ(out, "Mwansa 5   Mwansa   ");
  EXPECT_THAT(missing, ElementsAre("loan.due", "overdue", "nick"));
}

TEST(StrictMode, PresentNullIsNotMissing) {
  std::vector<std::string> missing;
  RenderOptions o;
  o.missing = &missing;
  render(must_compile("{{a}}"), json::parse(R"({"a":null})"), o);
  EXPECT_TRUE(missing.empty());
}

TEST(Lambdas, RegistryIsAFallbackAfterTheContext) {
  Lambdas l;
  l.add("who", [](const LambdaCall&) { return LambdaResult{"registry", true}; });
  RenderOptions o;
  o.lambdas = &l;
  Template t = must_compile("{{who}}");
  EXPECT_EQ(render(t, json::parse(R"({})"), o), "registry");
  EXPECT_EQ(render(t, json::parse(R"({"who":"data"})"), o), "data");
  EXPECT_EQ(render(t, json::parse(R"({"who":{"__lambda__":"who"}})"), o), "registry");
}

TEST(Lambdas, LiteralResultsAreNeverParsedAndAreEscaped) {
  Lambdas l;
  l.add("raw", [](const LambdaCall&) { return LambdaResult{"{{secret}} <b>", true}; });
  l.add("tpl", [](const LambdaCall&) { return LambdaResult{"{{secret}} <b>", false}; });
  RenderOptions o;
  o.lambdas = &l;
  json::value data = json::parse(R"({"secret":"s<"})");
  EXPECT_EQ(render(must_compile("{{raw}}|{{{raw}}}"), data, o), "{{secret}} &lt;b&gt;|{{secret}} <b>");
  // A template result is rendered, then escaped once as a whole (no double escaping of "s<").
  EXPECT_EQ(render(must_compile("{{tpl}}|{{{tpl}}}"), data, o), "s&lt; &lt;b&gt;|s< <b>");
}

TEST(Lambdas, SectionLambdaSeesRawTextAndCanRenderItsBody) {
  Lambdas l;
  l.add("wrap", [](const LambdaCall& c) {
    EXPECT_TRUE(c.is_section());
    EXPECT_EQ(c.text(), "{{a}}-{{b.c}}");
    EXPECT_EQ(c.find("b.c")->as_int64(), 2);
    EXPECT_EQ(c.find("missing"), nullptr);
    return LambdaResult{"[" + c.render_body() + "]", true};
  });
  RenderOptions o;
  o.lambdas = &l;
  o.escape = Escape::html;
  EXPECT_EQ(
      render(must_compile("{{#wrap}}{{a}}-{{b.c}}{{/wrap}}"), json::parse(R"({"a":"<x>","b":{"c":2}})"), o),
      "[&lt;x&gt;-2]");
}

TEST(Lambdas, FiltersGetTheRenderedBodyAndTheirResultIsEscapedOnce) {
  Lambdas l;
  l.add_filter("rev",
               [](std::string_view body, std::string& out) { out.assign(body.rbegin(), body.rend()); });
  RenderOptions o;
  o.lambdas = &l;
  json::value data = json::parse(R"({"a":"<b>","items":[1,2,3]})");
  EXPECT_EQ(render(must_compile("{{#rev}}{{a}}-{{#items}}{{.}}{{/items}}{{/rev}}"), data, o),
            "321-&gt;b&lt;");
  // Nested filters each get their own scratch space.
  EXPECT_EQ(render(must_compile("{{#rev}}x{{#rev}}ab{{/rev}}y{{/rev}}"), data, o), "yabx");
  // A registry entry replaces an earlier one of the same name, whatever its kind.
  l.add("rev", [](const LambdaCall&) { return LambdaResult{"lambda", true}; });
  EXPECT_EQ(render(must_compile("{{#rev}}x{{/rev}}"), data, o), "lambda");
  EXPECT_EQ(l.size(), 1u);
}

TEST(Lambdas, FailedResultTemplateRendersEmpty) {
  Lambdas l;
  l.add("bad", [](const LambdaCall&) { return LambdaResult{"{{#open}}", false}; });
  RenderOptions o;
  o.lambdas = &l;
  EXPECT_EQ(render(must_compile("a{{bad}}b{{#bad}}x{{/bad}}c"), json::parse("{}"), o), "abc");
}

TEST(Partials, ResolvedAtRenderTimeAndRecursionIsBounded) {
  PartialMap partials;
  ASSERT_FALSE(partials.add("row", "<li>{{n}}</li>"));
  ASSERT_FALSE(partials.add("loop", "x{{>loop}}"));
  auto err = partials.add("broken", "{{#a}}");
  ASSERT_TRUE(err);
  EXPECT_EQ(partials.find("broken"), nullptr);
  RenderOptions o;
  o.partials = &partials;
  EXPECT_EQ(render(must_compile("{{#items}}{{>row}}{{/items}}{{>none}}"),
                   json::parse(R"({"items":[{"n":1},{"n":2}]})"), o),
            "<li>1</li><li>2</li>");
  std::string out;
  EXPECT_FALSE(render(must_compile("{{>loop}}"), json::parse("{}"), o, out));
  EXPECT_EQ(out, std::string(100, 'x'));
}

TEST(Render, AppendsToCallerBuffer) {
  std::string out = "prefix:";
  EXPECT_TRUE(render(must_compile("{{a}}"), json::parse(R"({"a":"b"})"), {}, out));
  EXPECT_EQ(out, "prefix:b");
  EXPECT_TRUE(render(Template(), json::parse("{}"), {}, out));
  EXPECT_EQ(out, "prefix:b");
}

TEST(Render, WorkBudgetStopsExponentialTemplates) {
  std::string src, close;
  for (int i = 0; i < 12; ++i) {
    src += "{{#l}}";
    close += "{{/l}}";
  }
  json::value data = json::parse(R"({"l":[1,2,3,4,5,6,7,8,9,10]})");  // 10^12 iterations unbounded
  std::string out;
  EXPECT_FALSE(render(must_compile(src + "x" + close), data, {}, out));
  EXPECT_LE(out.size(), 100'000u);
  RenderOptions small;
  small.max_output_bytes = 1000;
  out.clear();
  EXPECT_FALSE(render(must_compile("{{#l}}{{#l}}{{#l}}0123456789{{/l}}{{/l}}{{/l}}"), data, small, out));
  EXPECT_GE(out.size(), 1000u);
  EXPECT_LE(out.size(), 1010u);
  out.clear();
  EXPECT_TRUE(render(must_compile("{{#l}}{{#l}}x{{/l}}{{/l}}"), data, {}, out));
  EXPECT_EQ(out.size(), 100u);
}

TEST(Render, CustomInitialDelimiters) {
  CompileResult r = compile("Hi <%name%> {{name}}", CompileOptions{"<%", "%>"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(render(r.value(), json::parse(R"({"name":"Ana"})")), "Hi Ana {{name}}");
  EXPECT_FALSE(compile("x", CompileOptions{"", "}}"}).ok());
}

TEST(Render, ConcurrentRendersOfOneTemplate) {
  Template t = must_compile("{{#items}}{{name}}:{{n}};{{/items}}");
  PartialMap partials;
  RenderOptions o;
  o.partials = &partials;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      json::value data = json::parse(R"({"items":[{"name":"a","n":)" + std::to_string(k) + "}]}");
      std::string expected = "a:" + std::to_string(k) + ";";
      for (int i = 0; i < 2000; ++i) {
        if (render(t, data, o) != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace comms::templates
