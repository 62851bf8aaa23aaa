// The renderer: walks a Program's instructions, recursing over the body range of each section.
//
// The context stack and the inheritance arguments are linked lists of frames that live on the C++ stack,
// so a render allocates nothing beyond growing `out` (and what lambdas and indented partials need).
#include <charconv>
#include <cmath>
#include <cstring>

#include "templates/escape.h"
#include "templates/lambdas.h"
#include "templates/partials.h"
#include "templates/program.h"
#include "templates/template.h"

namespace comms::templates::detail {
namespace json = boost::json;

constexpr int kMaxExpansions = 100;  // partials, parents and lambda results inside one another
constexpr int kMaxRunDepth = 400;    // nested bodies, expansions included

struct ContextFrame {
  const json::value* value;
  const ContextFrame* up;
};

// A parent being expanded, whose body holds the blocks it passes as arguments.
struct ArgsFrame {
  const Program* prog;
  std::uint32_t pc;
  const ArgsFrame* up;
};

struct Resolved {
  const json::value* value = nullptr;
  const Lambdas::Entry* lambda = nullptr;
};

// Scratch strings for filters, reused across renders on a thread so that steady-state rendering does not
// allocate. Indexed by the nesting of filter calls on this thread (nested renders included); deeper
// nesting than the pool uses a string of its own.
class Scratch {
 public:
  Scratch() : index_(depth_++) {
    buf_ = index_ < kPool ? &pool_[index_] : &own_;
    buf_->clear();
  }
  ~Scratch() { --depth_; }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string& str() { return *buf_; }

 private:
  static constexpr int kPool = 8;
  static thread_local std::string pool_[kPool];
  static thread_local int depth_;
  int index_;
  std::string* buf_;
  std::string own_;
};

thread_local std::string Scratch::pool_[Scratch::kPool];
thread_local int Scratch::depth_ = 0;

namespace {

// Numbers print as JavaScript prints them: the shortest text that reads back as the same double, in
// fixed notation from 1e-7 to 1e21 (so 100000.0 is "100000", never "1e+05"), scientific outside.
void append_double(std::string& out, double v) {
  char buf[64];
  double a = std::fabs(v);
  if (a == 0) {
    out += '0';
    return;
  }
  // Fast path for amounts: at most six decimals, checked to read back as v.
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
  for (int k = 0; k <= 6 && a < 1e15; ++k) {
    double x = v * kPow10[k];
    if (std::fabs(x) >= 9007199254740992.0) break;
    double r = std::nearbyint(x);
    if (r != x || r / kPow10[k] != v) continue;
    long long n = static_cast<long long>(r);
    char* end = buf + sizeof buf;
    char* p = end;
    unsigned long long u =
        n < 0 ? 0ULL - static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n);
    for (int digits = 0; u > 0 || digits <= k; ++digits) {
      if (digits == k && k > 0) *--p = '.';
      *--p = static_cast<char>('0' + u % 10);
      u /= 10;
    }
    if (n < 0) *--p = '-';
    out.append(p, end);
    return;
  }
  auto format = a >= 1e-7 && a < 1e21 ? std::chars_format::fixed : std::chars_format::scientific;
  auto r = std::to_chars(buf, buf + sizeof buf, v, format);
  out.append(buf, r.ptr);
}

bool truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return false;
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::string:
      return !v.get_string().empty();
    case json::kind::array:
      return !v.get_array().empty();
    default:
      return true;
  }
}

}  // namespace

class Renderer {
 public:
  Renderer(const RenderOptions& options, std::string& out)
      : opt_(options), out_(&out), escape_(options.escape), main_(&out), main_start_(out.size()) {}

  void run(const Program& p, std::uint32_t pc, std::uint32_t end, const ContextFrame* ctx) {
    if (depth_ >= kMaxRunDepth || ++runs_ > opt_.max_bodies ||
        main_->size() - main_start_ > opt_.max_output_bytes) {
      truncated_ = true;
      return;
    }
    ++depth_;
    const Instr* code = p.code.data();
    const char* pool = p.pool.data();
    while (pc < end) {
      const Instr& in = code[pc];
      switch (in.op) {
        case Op::text:
          if (indent_.empty()) {
            out_->append(pool + in.a, in.b);
          } else {
            text_indented(in.flags, pool + in.a, in.b);
          }
          ++pc;
          break;
        case Op::indent:
          out_->append(indent_);
          ++pc;
          break;
        case Op::var:
          var(p, in, ctx);
          ++pc;
          break;
        case Op::section:
          section(p, pc, ctx);
          pc = in.e;
          break;
        case Op::inverted: {
          Resolved r = resolve_section(p, p.names[in.a], ctx);
          if (!r.lambda && (!r.value || !truthy(*r.value))) run(p, pc + 1, in.e, ctx);
          pc = in.e;
          break;
        }
        case Op::partial:
          partial(p, in, ctx);
          ++pc;
          break;
        case Op::parent:
          parent(p, pc, ctx);
          pc = in.e;
          break;
        case Op::block:
          block(p, pc, ctx);
          pc = in.e;
          break;
      }
    }
    --depth_;
  }

  // True when a safety limit cut the output short.
  bool truncated() const { return truncated_; }

  void render_body(const LambdaCall& call, std::string& out) {
    if (!call.section_) return;
    Saved saved(*this);
    out_ = &out;
    escape_ = Escape::none;
    indent_ = {};
    run(*call.program_, call.body_begin_, call.body_end_, static_cast<const ContextFrame*>(call.context_));
  }

  const json::value* find(std::string_view dotted, const ContextFrame* ctx) const {
    if (dotted == ".") return ctx->value;
    std::size_t dot = dotted.find('.');
    std::string_view first = dotted.substr(0, dot);
    const json::value* v = lookup(first, ctx);
    while (v && dot != std::string_view::npos) {
      std::size_t next = dotted.find('.', dot + 1);
      std::string_view key = dotted.substr(dot + 1, next == std::string_view::npos ? next : next - dot - 1);
      const json::object* o = v->if_object();
      v = o ? o->if_contains(key) : nullptr;
      dot = next;
    }
    return v;
  }

 private:
  // Restores the output target, escaping and indentation on scope exit.
  struct Saved {
    explicit Saved(Renderer& r) : r(r), out(r.out_), escape(r.escape_), indent(r.indent_) {}
    ~Saved() {
      r.out_ = out;
      r.escape_ = escape;
      r.indent_ = indent;
    }
    Renderer& r;
    std::string* out;
    Escape escape;
    std::string_view indent;
  };

  // Small objects are scanned here (lengths and first bytes compared before memcmp); large ones use their
  // hash index.
  static const json::value* member(const json::object& o, std::string_view key) {
    if (o.size() > 16) return o.if_contains(key);
    for (const json::key_value_pair& kv : o) {
      std::string_view k = kv.key();
      if (k.size() != key.size()) continue;
      if (key.empty() || (k[0] == key[0] && std::memcmp(k.data(), key.data(), key.size()) == 0)) {
        return &kv.value();
      }
    }
    return nullptr;
  }

  static const json::value* lookup(std::string_view key, const ContextFrame* ctx) {
    for (const ContextFrame* c = ctx; c; c = c->up) {
      if (const json::object* o = c->value->if_object()) {
        if (const json::value* v = member(*o, key)) return v;
      }
    }
    return nullptr;
  }

  Resolved resolve(const Program& p, const Name& n, const ContextFrame* ctx) const {
    if (n.seg_count == 0) return {ctx->value};
    const Span* seg = p.segs.data() + n.first_seg;
    std::string_view first = p.str(seg[0]);
    const json::value* v = lookup(first, ctx);
    if (!v) {
      if (n.seg_count == 1 && opt_.lambdas) return {nullptr, opt_.lambdas->find(first)};
      return {};
    }
    for (std::uint32_t i = 1; i < n.seg_count; ++i) {
      const json::object* o = v->if_object();
      if (!o) return {};
      v = member(*o, p.str(seg[i]));
      if (!v) return {};
    }
    if (opt_.lambdas) {
      const json::object* o = v->if_object();
      if (o && o->size() == 1 && o->begin()->key() == "__lambda__" && o->begin()->value().is_string()) {
        if (const Lambdas::Entry* l = opt_.lambdas->find(o->begin()->value().get_string()))
          return {nullptr, l};
      }
    }
    return {v};
  }

  // Section and inverted tags look in the registry before the context (see lambdas.h).
  Resolved resolve_section(const Program& p, const Name& n, const ContextFrame* ctx) const {
    if (n.seg_count == 1 && opt_.lambdas) {
      if (const Lambdas::Entry* e = opt_.lambdas->find(p.str(p.segs[n.first_seg]))) return {nullptr, e};
    }
    return resolve(p, n, ctx);
  }

  void note_missing(const Program& p, const Name& n) {
    if (!opt_.missing) return;
    std::string_view s = p.str(n.text);
    for (const std::string& m : *opt_.missing) {
      if (m == s) return;
    }
    opt_.missing->emplace_back(s);
  }

  void text_indented(std::uint8_t flags, const char* s, std::size_t n) {
    if (flags & kLineStart) out_->append(indent_);
    if (!(flags & kMultiline)) {
      out_->append(s, n);
      return;
    }
    std::size_t a = 0;
    while (true) {
      const void* nl = std::memchr(s + a, '\n', n - a);
      if (!nl) {
        out_->append(s + a, n - a);
        return;
      }
      std::size_t k = static_cast<std::size_t>(static_cast<const char*>(nl) - s) + 1;
      out_->append(s + a, k - a);
      if (k == n) return;
      out_->append(indent_);
      a = k;
    }
  }

  void write_value(const json::value& v, bool raw) {
    char buf[32];
    switch (v.kind()) {
      case json::kind::string:
        append_escaped(*out_, v.get_string(), raw ? Escape::none : escape_);
        return;
      case json::kind::int64: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
        out_->append(buf, r.ptr);
        return;
      }
      case json::kind::uint64: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
        out_->append(buf, r.ptr);
        return;
      }
      case json::kind::double_:
        append_double(*out_, v.get_double());
        return;
      case json::kind::bool_:
        out_->append(v.get_bool() ? "true" : "false");
        return;
      default:
        return;  // null, arrays and objects interpolate as empty
    }
  }

  void var(const Program& p, const Instr& in, const ContextFrame* ctx) {
    const Name& n = p.names[in.a];
    Resolved r = resolve(p, n, ctx);
    if (r.value) {
      write_value(*r.value, in.flags & kRaw);
    } else if (r.lambda) {
      if (r.lambda->filter) return filter(r.lambda->filter, p, nullptr, ctx, in.flags & kRaw);
      interpolation_lambda(r.lambda->lambda, p, ctx, in.flags & kRaw);
    } else {
      note_missing(p, n);
    }
  }

  void section(const Program& p, std::uint32_t pc, const ContextFrame* ctx) {
    const Instr& in = p.code[pc];
    const Name& n = p.names[in.a];
    Resolved r = resolve_section(p, n, ctx);
    if (r.lambda) {
      if (r.lambda->filter) return filter(r.lambda->filter, p, &in, ctx, false);
      return section_lambda(r.lambda->lambda, p, pc, ctx);
    }
    if (!r.value) return note_missing(p, n);
    const json::value& v = *r.value;
    if (const json::array* a = v.if_array()) {
      for (const json::value& item : *a) {
        ContextFrame c{&item, ctx};
        run(p, pc + 1, in.e, &c);
      }
    } else if (truthy(v)) {
      ContextFrame c{&v, ctx};
      run(p, pc + 1, in.e, &c);
    }
  }

  // A filter: the body (if any) rendered unescaped, passed through fn, the result escaped once.
  void filter(const Filter& fn, const Program& p, const Instr* section, const ContextFrame* ctx, bool raw) {
    Scratch body, result;
    if (section) {
      Saved saved(*this);
      out_ = &body.str();
      escape_ = Escape::none;
      indent_ = {};
      std::uint32_t pc = static_cast<std::uint32_t>(section - p.code.data());
      if (section->e == pc + 2 && p.code[pc + 1].op == Op::var) {
        var(p, p.code[pc + 1], ctx);  // the usual {{#helper}}{{value}}{{/helper}}
      } else {
        run(p, pc + 1, section->e, ctx);
      }
    }
    fn(body.str(), result.str());
    append_escaped(*out_, result.str(), raw ? Escape::none : escape_);
  }

  // A lambda's result: literal text is escaped; a template is compiled and rendered. An interpolation's
  // result (as_value) is rendered unescaped, then escaped as one value; a section's renders in place.
  void lambda_result(const LambdaResult& r, const CompileOptions& delimiters, bool as_value, Escape escape,
                     const ContextFrame* ctx) {
    if (r.literal) return append_escaped(*out_, r.text, escape);
    if (expansions_ >= kMaxExpansions) {
      truncated_ = true;
      return;
    }
    CompileResult compiled = compile(r.text, delimiters);
    if (!compiled) return;
    const Program* prog = TemplateAccess::program(compiled.value());
    Saved saved(*this);
    indent_ = {};
    ++expansions_;
    if (!as_value) {
      run(*prog, 0, static_cast<std::uint32_t>(prog->code.size()), ctx);
    } else {
      std::string tmp;
      out_ = &tmp;
      escape_ = Escape::none;
      run(*prog, 0, static_cast<std::uint32_t>(prog->code.size()), ctx);
      append_escaped(*saved.out, tmp, escape);
    }
    --expansions_;
  }

  void interpolation_lambda(const Lambda& fn, const Program& p, const ContextFrame* ctx, bool raw) {
    LambdaCall call;
    call.renderer_ = this;
    call.program_ = &p;
    call.context_ = ctx;
    LambdaResult r = fn(call);
    lambda_result(r, CompileOptions{}, true, raw ? Escape::none : escape_, ctx);
  }

  void section_lambda(const Lambda& fn, const Program& p, std::uint32_t pc, const ContextFrame* ctx) {
    const Instr& in = p.code[pc];
    LambdaCall call;
    call.renderer_ = this;
    call.program_ = &p;
    call.context_ = ctx;
    call.section_ = true;
    call.text_ = p.str(in.b, in.c);
    call.body_begin_ = pc + 1;
    call.body_end_ = in.e;
    LambdaResult r = fn(call);
    const Delimiters& d = p.delims[in.d];
    lambda_result(r, CompileOptions{p.str(d.open), p.str(d.close)}, false, escape_, ctx);
  }

  const Program* find_partial(const Program& p, const Instr& in, const ContextFrame* ctx) {
    if (!opt_.partials) return nullptr;
    std::string_view name;
    if (in.flags & kDynamic) {
      Resolved r = resolve(p, p.names[in.a], ctx);
      if (!r.value || !r.value->is_string()) return nullptr;
      name = r.value->get_string();
    } else {
      name = p.str(in.a, in.b);
    }
    const Template* t = opt_.partials->find(name);
    if (!t) return nullptr;
    if (expansions_ >= kMaxExpansions) {
      truncated_ = true;
      return nullptr;
    }
    return TemplateAccess::program(*t);
  }

  // Runs an expanded template: a standalone tag indents every line of it, an inline one none.
  void expand(const Program& p, const Instr& in, const Program& target, const ContextFrame* ctx) {
    Saved saved(*this);
    std::string buf;
    if (!(in.flags & kStandalone)) {
      indent_ = {};
    } else if (in.d > 0) {
      buf.reserve(indent_.size() + in.d);
      buf.append(indent_).append(p.str(in.c, in.d));
      indent_ = buf;
    }
    ++expansions_;
    run(target, 0, static_cast<std::uint32_t>(target.code.size()), ctx);
    --expansions_;
  }

  void partial(const Program& p, const Instr& in, const ContextFrame* ctx) {
    if (const Program* target = find_partial(p, in, ctx)) expand(p, in, *target, ctx);
  }

  void parent(const Program& p, std::uint32_t pc, const ContextFrame* ctx) {
    const Instr& in = p.code[pc];
    const Program* target = find_partial(p, in, ctx);
    if (!target) return;
    ArgsFrame args{&p, pc, args_};
    args_ = &args;
    expand(p, in, *target, ctx);
    args_ = args.up;
  }

  // Expands a block: the argument passed by the outermost parent that names it, else its own content.
  void block(const Program& p, std::uint32_t pc, const ContextFrame* ctx) {
    const Instr& in = p.code[pc];
    std::string_view name = p.str(in.a, in.b);
    const Program* bp = &p;
    std::uint32_t begin = pc + 1, end = in.e;
    for (const ArgsFrame* a = args_; a; a = a->up) {
      const Instr* code = a->prog->code.data();
      for (std::uint32_t i = a->pc + 1, stop = code[a->pc].e; i < stop; i = code[i].e) {
        if (code[i].op == Op::block && a->prog->str(code[i].a, code[i].b) == name) {
          bp = a->prog;
          begin = i + 1;
          end = code[i].e;
          break;
        }
      }
    }
    // The content's own first line start is replaced by the indentation of this site.
    if (begin < end && bp->code[begin].op == Op::indent) ++begin;
    if (!(in.flags & kStandalone)) return run(*bp, begin, end, ctx);
    Saved saved(*this);
    std::string buf;
    if (in.d > 0) {
      buf.reserve(indent_.size() + in.d);
      buf.append(indent_).append(p.str(in.c, in.d));
      indent_ = buf;
    }
    if (begin < end) out_->append(indent_);
    run(*bp, begin, end, ctx);
  }

  const RenderOptions& opt_;
  std::string* out_;
  Escape escape_;
  std::string_view indent_;
  const ArgsFrame* args_ = nullptr;
  int depth_ = 0;
  int expansions_ = 0;
  std::string* main_;  // the caller's buffer, for the output limit
  std::size_t main_start_;
  long runs_ = 0;
  bool truncated_ = false;
};

}  // namespace comms::templates::detail

namespace comms::templates {

void LambdaCall::render_body(std::string& out) const {
  renderer_->render_body(*this, out);
}

std::string LambdaCall::render_body() const {
  std::string s;
  render_body(s);
  return s;
}

const boost::json::value* LambdaCall::find(std::string_view dotted_name) const {
  return renderer_->find(dotted_name, static_cast<const detail::ContextFrame*>(context_));
}

bool render(const Template& t, const boost::json::value& context, const RenderOptions& options,
            std::string& out) {
  const detail::Program* p = detail::TemplateAccess::program(t);
  if (!p) return true;
  out.reserve(out.size() + p->size_hint);
  detail::Renderer r(options, out);
  detail::ContextFrame root{&context, nullptr};
  r.run(*p, 0, static_cast<std::uint32_t>(p->code.size()), &root);
  return !r.truncated();
}

std::string render(const Template& t, const boost::json::value& context, const RenderOptions& options) {
  std::string out;
  (void)render(t, context, options, out);
  return out;
}

}  // namespace comms::templates
