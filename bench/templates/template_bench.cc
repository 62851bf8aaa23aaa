// Renders per second: this engine against mstch, with the data and templates in this folder.
// bash bench/templates/run.sh runs this together with mustache.js and handlebars and prints the table.
//
// ours:          compiled once; helpers (money, date, mask, upper) run as lambdas on every render.
// ours+compile:  compile() and render() on every iteration, for comparison with mstch's API.
// ours pre:      the pre-formatted data below with the *.mstch.mustache templates: no helper work, like
//                mstch and the "pre-formatted" mustache.js row.
// mstch:         mstch::render(string, node) is its only API (it tokenizes the template on every call).
//                mstch lambdas get the raw section text but cannot render it in the current context, so
//                its data carries the values pre-formatted once before timing (by this engine's
//                helpers): mstch does none of the helper work that the others do.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "templates/helpers.h"
#include "templates/template.h"

#ifdef COMMS_BENCH_MSTCH
#include <mstch/mstch.hpp>
#endif

namespace {
namespace json = boost::json;
namespace tpl = comms::templates;

std::string read(const std::string& name) {
  std::ifstream in(std::string(COMMS_BENCH_DIR) + "/" + name);
  if (!in) {
    std::cerr << "cannot read " << name << "\n";
    std::exit(2);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  json::value data = json::parse(read("data.json"));
  tpl::Lambdas helpers = tpl::default_helpers("en", "Africa/Lusaka");
  tpl::RenderOptions sms_options{tpl::Escape::none, nullptr, &helpers, nullptr};
  tpl::RenderOptions email_options{tpl::Escape::html, nullptr, &helpers, nullptr};
  std::string sms_source = read("sms.mustache");
  std::string email_source = read("email.mustache");
  tpl::Template sms = compile_or_die(sms_source);
  tpl::Template email = compile_or_die(email_source);

  static tpl::Template compile_or_die(const std::string& src) {
    tpl::CompileResult r = tpl::compile(src);
    if (!r) {
      std::cerr << "compile error " << r.error().line << ":" << r.error().column << " " << r.error().message;
      std::exit(2);
    }
    return r.value();
  }

  // A helper applied once, for the pre-formatted data.
  std::string format(const char* helper, const json::value& v) {
    std::string src = std::string("{{#") + helper + "}}{{v}}{{/" + helper + "}}";
    return tpl::render(compile_or_die(src), json::object{{"v", v}}, sms_options);
  }

  // The data with every helper result computed up front, for the *.mstch.mustache templates: what mstch
  // gets, and what the "pre" rows of ours and mustache.js render (no helper work at render time).
  json::value preformatted() {
    json::object d = data.as_object();
    d["amount_fmt"] = format("money", d["amount"]);
    d["account_masked"] = format("mask", d["account"]);
    d["due_date_fmt"] = format("date", d["due_date"]);
    d["principal_fmt"] = format("money", d["principal"]);
    d["approved_on_fmt"] = format("date", d["approved_on"]);
    d["overdue_amount_fmt"] = format("money", d["overdue_amount"]);
    d["branch_upper"] = format("upper", d["branch"]);
    for (json::value& i : d["installments"].as_array()) {
      json::object& o = i.as_object();
      o["due_fmt"] = format("date", o["due"]);
      o["amount_fmt"] = format("money", o["amount"]);
    }
    return d;
  }

  json::value pre = preformatted();
  tpl::Template pre_sms = compile_or_die(read("sms.mstch.mustache"));
  tpl::Template pre_email = compile_or_die(read("email.mstch.mustache"));
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_Ours_Sms(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    benchmark::DoNotOptimize(tpl::render(f.sms, f.data, f.sms_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
  st.SetLabel(std::to_string(out.size()) + " bytes");
}

void BM_Ours_Email(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    benchmark::DoNotOptimize(tpl::render(f.email, f.data, f.email_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
  st.SetLabel(std::to_string(out.size()) + " bytes");
}

void BM_OursCompile_Sms(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    tpl::CompileResult t = tpl::compile(f.sms_source);
    benchmark::DoNotOptimize(tpl::render(t.value(), f.data, f.sms_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_OursCompile_Email(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    tpl::CompileResult t = tpl::compile(f.email_source);
    benchmark::DoNotOptimize(tpl::render(t.value(), f.data, f.email_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_OursPre_Sms(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    benchmark::DoNotOptimize(tpl::render(f.pre_sms, f.pre, f.sms_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_OursPre_Email(benchmark::State& st) {
  Fixture& f = fixture();
  std::string out;
  for (auto _ : st) {
    out.clear();
    benchmark::DoNotOptimize(tpl::render(f.pre_email, f.pre, f.email_options, out));
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}

BENCHMARK(BM_Ours_Sms);
BENCHMARK(BM_OursCompile_Sms);
BENCHMARK(BM_OursPre_Sms);
BENCHMARK(BM_Ours_Email);
BENCHMARK(BM_OursCompile_Email);
BENCHMARK(BM_OursPre_Email);

#ifdef COMMS_BENCH_MSTCH
mstch::node to_mstch(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::int64:
      return static_cast<int>(v.get_int64());
    case json::kind::double_:
      return v.get_double();
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::array: {
      mstch::array a;
      for (const auto& e : v.get_array()) a.push_back(to_mstch(e));
      return a;
    }
    case json::kind::object: {
      mstch::map m;
      for (const auto& kv : v.get_object()) m.emplace(std::string(kv.key()), to_mstch(kv.value()));
      return m;
    }
    default:
      return nullptr;
  }
}

struct MstchFixture {
  std::string sms = read("sms.mstch.mustache");
  std::string email = read("email.mstch.mustache");
  mstch::node data;
  MstchFixture() : data(to_mstch(fixture().pre)) {}
};

MstchFixture& mstch_fixture() {
  static MstchFixture f;
  return f;
}

void BM_Mstch_Sms(benchmark::State& st) {
  MstchFixture& f = mstch_fixture();
  std::string out;
  for (auto _ : st) {
    out = mstch::render(f.sms, f.data);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
  st.SetLabel(std::to_string(out.size()) + " bytes");
}

void BM_Mstch_Email(benchmark::State& st) {
  MstchFixture& f = mstch_fixture();
  std::string out;
  for (auto _ : st) {
    out = mstch::render(f.email, f.data);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
  st.SetLabel(std::to_string(out.size()) + " bytes");
}

BENCHMARK(BM_Mstch_Sms);
BENCHMARK(BM_Mstch_Email);
#endif

// --print NAME writes one implementation's output, so run.sh can check that all of them agree.
int print(const std::string& which) {
  Fixture& f = fixture();
  std::string out;
  if (which == "ours-sms") out = tpl::render(f.sms, f.data, f.sms_options);
  if (which == "ours-email") out = tpl::render(f.email, f.data, f.email_options);
  if (which == "ours-pre-sms") out = tpl::render(f.pre_sms, f.pre, f.sms_options);
  if (which == "ours-pre-email") out = tpl::render(f.pre_email, f.pre, f.email_options);
#ifdef COMMS_BENCH_MSTCH
  if (which == "mstch-sms") out = mstch::render(mstch_fixture().sms, mstch_fixture().data);
  if (which == "mstch-email") out = mstch::render(mstch_fixture().email, mstch_fixture().data);
#endif
  std::cout << out;
  return out.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--print") return print(argv[2]);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
