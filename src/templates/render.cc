// The renderer: walks a Program's instructions, recursing over the body range of each section.
//
// The context stack and the inheritance arguments are linked lists of frames that live on the C++ stack,
// so a render allocates nothing beyond growing `out` (and what lambdas and indented partials need).
#include <charconv>
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
  const Lambda* lambda = nullptr;
};

namespace {

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
          if (indent_.empty() || !(in.flags & kMultiline)) {
            out_->append(pool + in.a, in.b);
          } else {
            text_indented(pool + in.a, in.b);
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
          Resolved r = resolve(p, p.names[in.a], ctx);
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

  static const json::value* lookup(std::string_view key, const ContextFrame* ctx) {
    for (const ContextFrame* c = ctx; c; c = c->up) {
      if (const json::object* o = c->value->if_object()) {
        if (const json::value* v = o->if_contains(key)) return v;
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
      v = o->if_contains(p.str(seg[i]));
      if (!v) return {};
    }
    if (opt_.lambdas) {
      const json::object* o = v->if_object();
      if (o && o->size() == 1 && o->begin()->key() == "__lambda__" && o->begin()->value().is_string()) {
        if (const Lambda* l = opt_.lambdas->find(o->begin()->value().get_string())) return {nullptr, l};
      }
    }
    return {v};
  }

  void note_missing(const Program& p, const Name& n) {
    if (!opt_.missing) return;
    std::string_view s = p.str(n.text);
    for (const std::string& m : *opt_.missing) {
      if (m == s) return;
    }
    opt_.missing->emplace_back(s);
  }

  void text_indented(const char* s, std::size_t n) {
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
      case json::kind::double_: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
        out_->append(buf, r.ptr);
        return;
      }
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
      interpolation_lambda(*r.lambda, p, ctx, in.flags & kRaw);
    } else {
      note_missing(p, n);
    }
  }

  void section(const Program& p, std::uint32_t pc, const ContextFrame* ctx) {
    const Instr& in = p.code[pc];
    const Name& n = p.names[in.a];
    Resolved r = resolve(p, n, ctx);
    if (r.lambda) return section_lambda(*r.lambda, p, pc, ctx);
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
