// The second compile pass: turns the tags found by scan() into the flat instruction vector.
//
// Indentation follows the spec's model of a standalone partial, "prepend the whitespace to each line of
// the partial before rendering": an indent instruction marks each position where a source line starts
// (a text instruction marks the line starts inside it with kMultiline), and the renderer emits the
// indentation in force there. Blocks whose opening tag stands alone are dedented here by the whitespace
// common to their lines and re-indented where they are expanded (inheritance module).
#include <cstring>
#include <limits>

#include "templates/program.h"
#include "templates/scan.h"
#include "templates/template.h"

namespace comms::templates {
namespace {

using detail::Instr;
using detail::Op;
using detail::Program;
using detail::Span;
using detail::Tag;
using detail::TagKind;

constexpr std::size_t kMaxSource = 16u << 20;

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

class Generator {
 public:
  Generator(Program& prog, std::vector<Tag>& tags)
      : prog_(prog), src_(prog.pool.data(), prog.source_size), tags_(tags) {}

  void run() {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < tags_.size(); ++i) {
      Tag& t = tags_[i];
      text(pos, t.emit_start);
      if (!suppressed_ && pending_ && !t.standalone) {
        push({Op::indent});
        pending_ = false;
      }
      tag(t);
      pos = t.emit_end;
      pending_ = pos == 0 || src_[pos - 1] == '\n';
    }
    text(pos, src_.size());
  }

 private:
  struct Open {
    std::uint32_t pc;
    bool emitted;
    bool suppressed_before;
    std::uint32_t dedent_before;
    std::size_t body_start_before;
  };

  static std::uint32_t u32(std::size_t v) { return static_cast<std::uint32_t>(v); }

  void push(Instr in) { prog_.code.push_back(in); }

  // Literal text [a, b). Inside a dedented block, each line loses up to dedent_ leading blanks.
  void text(std::size_t a, std::size_t b) {
    if (suppressed_) return;
    while (a < b) {
      if (dedent_ > 0 && (a == 0 || src_[a - 1] == '\n')) {
        std::size_t k = a;
        while (k < b && k - a < dedent_ && is_blank(src_[k])) ++k;
        a = k;
        if (a >= b) return;
      }
      // The indentation of a line that starts with text rides on the text instruction, except as the first
      // instruction of a body, where a block site must be able to drop it (see render.cc, block()).
      bool line_start = pending_;
      if (pending_ && prog_.code.size() == body_start_) {
        push({Op::indent});
        line_start = false;
      }
      pending_ = false;
      std::size_t e = b;
      if (dedent_ > 0) {
        std::size_t nl = src_.find('\n', a);
        if (nl != std::string_view::npos && nl + 1 < b) e = nl + 1;
      }
      Instr in{Op::text};
      in.a = u32(a);
      in.b = u32(e - a);
      if (e - a > 1 && std::memchr(src_.data() + a, '\n', e - a - 1) != nullptr)
        in.flags |= detail::kMultiline;
      if (line_start) in.flags |= detail::kLineStart;
      push(in);
      prog_.size_hint += e - a;
      if (src_[e - 1] == '\n') pending_ = true;
      a = e;
    }
  }

  // The blanks before a standalone tag, less what the enclosing dedent removes.
  Span indentation(const Tag& t) const {
    std::uint32_t ws = t.start - t.emit_start;
    std::uint32_t cut = std::min(ws, dedent_);
    return {t.emit_start + cut, ws - cut};
  }

  // Longest blank prefix shared by the non-blank lines of [a, b): {offset of a line, length}.
  Span common_indent(std::size_t a, std::size_t b) const {
    Span best;
    bool any = false;
    std::size_t ls = a;
    while (ls < b) {
      std::size_t le = src_.find('\n', ls);
      if (le == std::string_view::npos || le > b) le = b;
      std::size_t k = ls;
      while (k < le && is_blank(src_[k])) ++k;
      bool blank = k == le || (k + 1 == le && src_[k] == '\r');
      if (!blank) {
        std::uint32_t w = u32(k - ls);
        if (!any) {
          best = {u32(ls), w};
          any = true;
        } else {
          std::uint32_t m = 0;
          while (m < best.len && m < w && src_[ls + m] == src_[best.off + m]) ++m;
          best.len = m;
        }
      }
      ls = le + 1;
    }
    return best;
  }

  void open(Instr in, bool emit, bool body_suppressed, std::uint32_t body_dedent) {
    opens_.push_back({u32(prog_.code.size()), emit, suppressed_, dedent_, body_start_});
    if (emit) push(in);
    suppressed_ = body_suppressed;
    dedent_ = body_dedent;
    body_start_ = prog_.code.size();
  }

  void tag(const Tag& t) {
    switch (t.kind) {
      case TagKind::comment:
      case TagKind::delimiters:
        return;
      case TagKind::var:
      case TagKind::raw_var: {
        if (suppressed_) return;
        Instr in{Op::var};
        in.a = t.name;
        if (t.kind == TagKind::raw_var) in.flags |= detail::kRaw;
        push(in);
        prog_.size_hint += 8;
        return;
      }
      case TagKind::section:
      case TagKind::inverted: {
        Instr in{t.kind == TagKind::section ? Op::section : Op::inverted};
        in.a = t.name;
        in.b = t.end;
        in.c = tags_[t.match].start - t.end;
        in.d = t.delims;
        open(in, !suppressed_, suppressed_, dedent_);
        return;
      }
      case TagKind::partial:
      case TagKind::parent: {
        Instr in{t.kind == TagKind::partial ? Op::partial : Op::parent};
        if (t.dynamic) {
          in.flags |= detail::kDynamic;
          in.a = t.name;
        } else {
          in.a = t.content.off;
          in.b = t.content.len;
        }
        if (t.standalone) {
          in.flags |= detail::kStandalone;
          Span ind = indentation(t);
          in.c = ind.off;
          in.d = ind.len;
        }
        if (t.kind == TagKind::partial) {
          if (!suppressed_) push(in);
        } else {
          // Only the blocks directly inside a parent are rendered (as its arguments); other text is ignored.
          open(in, !suppressed_, true, dedent_);
        }
        return;
      }
      case TagKind::block:
        return block(t);
      case TagKind::close: {
        Open o = opens_.back();
        opens_.pop_back();
        if (o.emitted) prog_.code[o.pc].e = u32(prog_.code.size());
        suppressed_ = o.suppressed_before;
        dedent_ = o.dedent_before;
        body_start_ = o.body_start_before;
        return;
      }
    }
  }

  void block(const Tag& t) {
    bool argument = t.owner >= 0 && tags_[t.owner].kind == TagKind::parent;
    bool emit = argument ? opens_.back().emitted : !suppressed_;
    Instr in{Op::block};
    in.a = t.content.off;
    in.b = t.content.len;
    std::uint32_t body_dedent = dedent_;
    if (t.standalone) {
      in.flags |= detail::kStandalone;
      Span ind = indentation(t);
      if (t.emit_end > t.end) {  // the opening tag's line is gone: the content starts on a line of its own
        Span common = common_indent(t.emit_end, tags_[t.match].emit_start);
        if (common.len > dedent_) {
          ind = {common.off + dedent_, common.len - dedent_};
          body_dedent = common.len;
        }
      }
      in.c = ind.off;
      in.d = ind.len;
    }
    open(in, emit, !emit, body_dedent);
  }

  Program& prog_;
  std::string_view src_;
  std::vector<Tag>& tags_;
  std::vector<Open> opens_;
  bool suppressed_ = false;  // inside a parent, outside its blocks: nothing is rendered
  bool pending_ = true;      // at the start of a source line, no indent instruction emitted for it yet
  std::uint32_t dedent_ = 0;
  std::size_t body_start_ = 0;  // pc of the first instruction of the innermost body
};

bool valid_delimiter(std::string_view d) {
  if (d.empty()) return false;
  for (char c : d) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return false;
  }
  return true;
}

}  // namespace

Template::Template() = default;

std::string_view Template::source() const {
  if (!prog_) return {};
  return std::string_view(prog_->pool.data(), prog_->source_size);
}

CompileResult compile(std::string_view source, const CompileOptions& options) {
  if (source.size() > kMaxSource) return ParseError{1, 1, "template larger than 16 MiB"};
  if (!valid_delimiter(options.open_delimiter) || !valid_delimiter(options.close_delimiter)) {
    return ParseError{1, 1, "invalid initial delimiters"};
  }
  auto prog = std::make_shared<Program>();
  prog->pool.reserve(source.size() + options.open_delimiter.size() + options.close_delimiter.size());
  prog->pool.append(source);
  prog->source_size = source.size();
  prog->pool.append(options.open_delimiter);
  prog->pool.append(options.close_delimiter);
  std::uint32_t open_len = static_cast<std::uint32_t>(options.open_delimiter.size());
  prog->delims.push_back({{static_cast<std::uint32_t>(source.size()), open_len},
                          {static_cast<std::uint32_t>(source.size()) + open_len,
                           static_cast<std::uint32_t>(options.close_delimiter.size())}});

  std::vector<Tag> tags;
  if (auto err = detail::scan(*prog, tags)) return std::move(*err);
  Generator(*prog, tags).run();
  prog->code.shrink_to_fit();
  return detail::TemplateAccess::make(std::move(prog));
}

}  // namespace comms::templates
