// Runs the official Mustache spec files (kept outside the repo) against the engine.
//
// The folder comes from COMMS_SPEC_DIR (ctest sets it), else ../shared/testdata/mustache-spec beside the
// repository root. Each file is one test that prints "<file>: passed/total" and fails on any miss.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "templates/lambdas.h"
#include "templates/partials.h"
#include "templates/template.h"

namespace comms::templates {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

fs::path spec_dir() {
  if (const char* env = std::getenv("COMMS_SPEC_DIR"); env && *env) return env;
  // This file is <root>/tests/unit/templates/spec_test.cc.
  fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  return root / ".." / "shared" / "testdata" / "mustache-spec";
}

// C++ versions of the ~lambdas.json code samples, by test name.
Lambda spec_lambda(const std::string& test) {
  auto result = [](std::string s) { return LambdaResult{std::move(s), false}; };
  if (test == "Interpolation") return [=](const LambdaCall&) { return result("world"); };
  if (test == "Interpolation - Expansion") return [=](const LambdaCall&) { return result("{{planet}}"); };
  if (test == "Interpolation - Alternate Delimiters") {
    return [=](const LambdaCall&) { return result("|planet| => {{planet}}"); };
  }
  if (test == "Interpolation - Multiple Calls") {
    return
        [=, calls = std::make_shared<int>(0)](const LambdaCall&) { return result(std::to_string(++*calls)); };
  }
  if (test == "Escaping") return [=](const LambdaCall&) { return result(">"); };
  if (test == "Section") {
    return [=](const LambdaCall& c) { return result(c.text() == "{{x}}" ? "yes" : "no"); };
  }
  if (test == "Section - Expansion") {
    return [=](const LambdaCall& c) {
      std::string t(c.text());
      return result(t + "{{planet}}" + t);
    };
  }
  if (test == "Section - Alternate Delimiters") {
    return [=](const LambdaCall& c) {
      std::string t(c.text());
      return result(t + "{{planet}} => |planet|" + t);
    };
  }
  if (test == "Section - Multiple Calls") {
    return [=](const LambdaCall& c) { return result("__" + std::string(c.text()) + "__"); };
  }
  if (test == "Inverted Section") return [=](const LambdaCall&) { return result(""); };
  return nullptr;
}

// Replaces each {"__tag__": "code", ...} object with the marker of the lambda registered as `name`.
void mark_lambdas(json::value& v, const std::string& name) {
  if (json::object* o = v.if_object()) {
    if (const json::value* tag = o->if_contains("__tag__"); tag && *tag == "code") {
      v = json::object{{"__lambda__", name}};
      return;
    }
    for (auto& kv : *o) mark_lambdas(kv.value(), name);
  } else if (json::array* a = v.if_array()) {
    for (auto& e : *a) mark_lambdas(e, name);
  }
}

class MustacheSpec : public testing::TestWithParam<std::string> {};

TEST_P(MustacheSpec, AllPass) {
  fs::path dir = spec_dir();
  ASSERT_TRUE(fs::is_directory(dir)) << "Mustache spec folder not found: " << dir
                                     << "\nSet COMMS_SPEC_DIR to the folder that holds the spec JSON files.";
  fs::path file = dir / GetParam();
  std::ifstream in(file);
  ASSERT_TRUE(in) << "cannot read " << file;
  std::stringstream buf;
  buf << in.rdbuf();
  json::value doc = json::parse(buf.str());
  const json::array& tests = doc.at("tests").as_array();

  int passed = 0;
  for (const json::value& tv : tests) {
    const json::object& t = tv.as_object();
    std::string name(t.at("name").as_string());
    json::value data = t.at("data");
    Lambdas lambdas;
    if (Lambda fn = spec_lambda(name)) lambdas.add(name, std::move(fn));
    mark_lambdas(data, name);

    PartialMap partials;
    if (const json::value* ps = t.if_contains("partials")) {
      for (const auto& kv : ps->as_object()) {
        auto err = partials.add(std::string(kv.key()), kv.value().as_string());
        EXPECT_FALSE(err) << name << ": partial " << kv.key() << ": " << err->message;
      }
    }
    CompileResult compiled = compile(t.at("template").as_string());
    if (!compiled) {
      ADD_FAILURE() << GetParam() << " / " << name << ": compile error at " << compiled.error().line << ":"
                    << compiled.error().column << ": " << compiled.error().message;
      continue;
    }
    RenderOptions options{Escape::html, &partials, &lambdas, nullptr};
    std::string got = render(compiled.value(), data, options);
    std::string expected(t.at("expected").as_string());
    if (got == expected) {
      ++passed;
    } else {
      ADD_FAILURE() << GetParam() << " / " << name << "\n  template: " << json::serialize(t.at("template"))
                    << "\n  expected: " << json::serialize(json::string(expected))
                    << "\n  got:      " << json::serialize(json::string(got));
    }
  }
  std::cout << GetParam() << ": " << passed << "/" << tests.size() << std::endl;
  EXPECT_EQ(passed, static_cast<int>(tests.size()));
}

INSTANTIATE_TEST_SUITE_P(Files, MustacheSpec,
                         testing::Values("comments.json", "delimiters.json", "interpolation.json",
                                         "inverted.json", "partials.json", "sections.json",
                                         "~dynamic-names.json", "~inheritance.json", "~lambdas.json"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) {
                             if (c == '.') break;
                             if (std::isalnum(static_cast<unsigned char>(c))) n += c;
                           }
                           return n;
                         });

}  // namespace
}  // namespace comms::templates
