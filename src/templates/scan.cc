#include "templates/scan.h"

#include <string>
#include <utility>

namespace comms::templates::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool opens_block(TagKind k) {
  return k == TagKind::section || k == TagKind::inverted || k == TagKind::parent || k == TagKind::block;
}

bool can_stand_alone(TagKind k) {
  return k != TagKind::var && k != TagKind::raw_var;
}

class Scanner {
 public:
  Scanner(Program& prog, std::vector<Tag>& tags)
      : prog_(prog), src_(prog.pool.data(), prog.source_size), tags_(tags) {}

  std::optional<ParseError> run() {
    if (!scan_tags()) return std::move(err_);
    mark_standalone();
    return std::nullopt;
  }

 private:
  std::string_view text(Span s) const { return src_.substr(s.off, s.len); }

  bool fail(std::size_t pos, std::string message) {
    err_ = error_at(src_, pos, std::move(message));
    return false;
  }

  std::string quoted(const Tag& t) const { return std::string(src_.substr(t.start, t.end - t.start)); }

  Span trim(std::size_t a, std::size_t b) const {
    while (a < b && is_space(src_[a])) ++a;
    while (b > a && is_space(src_[b - 1])) --b;
    return {static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b - a)};
  }

  // A dotted name ("a.b.c" or "."), split into segments once here so rendering never splits.
  bool add_name(Tag& t, Span s) {
    std::string_view n = text(s);
    if (n.empty()) return fail(t.start, "empty tag " + quoted(t));
    for (char c : n) {
      if (is_space(c)) return fail(t.start, "tag name must not contain whitespace: " + quoted(t));
    }
    Name name{static_cast<std::uint32_t>(prog_.segs.size()), 0, s};
    if (n != ".") {
      std::size_t a = 0;
      while (true) {
        std::size_t dot = n.find('.', a);
        std::size_t b = dot == std::string_view::npos ? n.size() : dot;
        if (b == a) return fail(t.start, "invalid dotted name in " + quoted(t));
        prog_.segs.push_back({static_cast<std::uint32_t>(s.off + a), static_cast<std::uint32_t>(b - a)});
        ++name.seg_count;
        if (dot == std::string_view::npos) break;
        a = dot + 1;
      }
    }
    t.name = static_cast<std::uint32_t>(prog_.names.size());
    prog_.names.push_back(name);
    return true;
  }

  bool plain_name(const Tag& t) {
    std::string_view n = text(t.content);
    if (n.empty()) return fail(t.start, "empty tag " + quoted(t));
    for (char c : n) {
      if (is_space(c)) return fail(t.start, "tag name must not contain whitespace: " + quoted(t));
    }
    return true;
  }

  // {{>*name}} / {{<*name}}: the rest is a dotted name looked up in the context at render time.
  bool partial_name(Tag& t) {
    std::string_view n = text(t.content);
    if (!n.empty() && n[0] == '*') {
      t.dynamic = true;
      return add_name(t, trim(t.content.off + 1, t.content.off + t.content.len));
    }
    return plain_name(t);
  }

  bool set_delimiters(Tag& t, Delimiters& current) {
    std::string_view c = text(t.content);
    std::size_t a_end = 0;
    while (a_end < c.size() && !is_space(c[a_end])) ++a_end;
    std::size_t b_begin = a_end;
    while (b_begin < c.size() && is_space(c[b_begin])) ++b_begin;
    std::size_t b_end = b_begin;
    while (b_end < c.size() && !is_space(c[b_end])) ++b_end;
    if (a_end == 0 || b_begin == a_end || b_end == b_begin || b_end != c.size()) {
      return fail(t.start, "invalid set-delimiter tag " + quoted(t) +
                               ": expected two delimiters separated by a space, like {{=<% %>=}}");
    }
    current.open = {t.content.off, static_cast<std::uint32_t>(a_end)};
    current.close = {static_cast<std::uint32_t>(t.content.off + b_begin),
                     static_cast<std::uint32_t>(b_end - b_begin)};
    t.delims = static_cast<std::uint32_t>(prog_.delims.size());
    prog_.delims.push_back(current);
    return true;
  }

  // Section names match as written; dynamic names ignore the space after '*'.
  std::pair<bool, std::string_view> key(const Tag& t) const {
    std::string_view n = text(t.content);
    if (!n.empty() && n[0] == '*') {
      Span rest = trim(t.content.off + 1, t.content.off + t.content.len);
      return {true, text(rest)};
    }
    return {false, n};
  }

  bool scan_tags() {
    Delimiters current = prog_.delims[0];
    std::uint32_t current_index = 0;
    std::vector<int> open;
    std::size_t pos = 0;
    std::string terminator;
    while (true) {
      std::string_view od = prog_.str(current.open), cd = prog_.str(current.close);
      std::size_t p = src_.find(od, pos);
      if (p == std::string_view::npos) break;
      Tag t;
      t.start = static_cast<std::uint32_t>(p);
      t.delims = current_index;
      std::size_t q = p + od.size();
      char c = q < src_.size() ? src_[q] : '\0';
      std::size_t content_begin = q + 1;
      terminator.assign(cd);
      switch (c) {
        case '{':
          t.kind = TagKind::raw_var;
          terminator.insert(0, "}");
          break;
        case '&':
          t.kind = TagKind::raw_var;
          break;
        case '#':
          t.kind = TagKind::section;
          break;
        case '^':
          t.kind = TagKind::inverted;
          break;
        case '/':
          t.kind = TagKind::close;
          break;
        case '!':
          t.kind = TagKind::comment;
          break;
        case '>':
          t.kind = TagKind::partial;
          break;
        case '<':
          t.kind = TagKind::parent;
          break;
        case '$':
          t.kind = TagKind::block;
          break;
        case '=':
          t.kind = TagKind::delimiters;
          terminator.insert(0, "=");
          break;
        default:
          t.kind = TagKind::var;
          content_begin = q;
          break;
      }
      std::size_t f =
          content_begin <= src_.size() ? src_.find(terminator, content_begin) : std::string_view::npos;
      if (f == std::string_view::npos) return fail(p, "unclosed tag: no '" + terminator + "' after it");
      t.end = static_cast<std::uint32_t>(f + terminator.size());
      t.content = trim(content_begin, f);
      pos = t.end;

      switch (t.kind) {
        case TagKind::var:
        case TagKind::raw_var:
        case TagKind::section:
        case TagKind::inverted:
          if (!add_name(t, t.content)) return false;
          break;
        case TagKind::partial:
        case TagKind::parent:
          if (!partial_name(t)) return false;
          break;
        case TagKind::block:
        case TagKind::close:
          if (!plain_name(t)) return false;
          break;
        case TagKind::delimiters:
          if (!set_delimiters(t, current)) return false;
          current_index = t.delims;
          break;
        case TagKind::comment:
          break;
      }

      int self = static_cast<int>(tags_.size());
      t.owner = open.empty() ? -1 : open.back();
      if (t.kind == TagKind::close) {
        if (open.empty()) return fail(p, "unexpected closing tag " + quoted(t) + ": no section is open");
        Tag& o = tags_[open.back()];
        if (key(o) != key(t)) {
          ParseError at = error_at(src_, o.start, "");
          return fail(p, "closing tag " + quoted(t) + " does not match " + quoted(o) + " opened at line " +
                             std::to_string(at.line) + ", column " + std::to_string(at.column));
        }
        o.match = self;
        t.match = open.back();
        t.owner = o.owner;
        open.pop_back();
      } else if (opens_block(t.kind)) {
        if (open.size() >= static_cast<std::size_t>(kMaxNesting)) {
          return fail(p, "sections nested deeper than " + std::to_string(kMaxNesting));
        }
        open.push_back(self);
      }
      tags_.push_back(t);
    }
    if (!open.empty()) {
      const Tag& o = tags_[open.back()];
      return fail(o.start, "unclosed section " + quoted(o) + ": no matching closing tag");
    }
    return true;
  }

  // Start of the line holding pos if only blanks precede pos on it; npos otherwise.
  std::size_t blank_before(std::size_t pos) const {
    std::size_t k = pos;
    while (k > 0 && is_blank(src_[k - 1])) --k;
    return (k == 0 || src_[k - 1] == '\n') ? k : std::string_view::npos;
  }

  // Just past the line ending after pos if only blanks follow pos on its line (or the source ends);
  // npos otherwise. "\r\n" counts as one line ending.
  std::size_t blank_after(std::size_t pos) const {
    std::size_t k = pos;
    while (k < src_.size() && is_blank(src_[k])) ++k;
    if (k == src_.size()) return k;
    if (src_[k] == '\n') return k + 1;
    if (src_[k] == '\r' && k + 1 < src_.size() && src_[k + 1] == '\n') return k + 2;
    return std::string_view::npos;
  }

  // Inheritance tags may stand alone in adjacent pairs: {{<p}}{{/p}}, {{$b}}{{/b}}, {{<p}}{{$b}} and
  // {{/b}}{{/p}}. An empty {{$b}}{{/b}} keeps its line ending (the block's content supplies none).
  enum class Pair { none, ordinary, keeps_newline };
  Pair pair_kind(std::size_t i) const {
    const Tag& a = tags_[i];
    const Tag& b = tags_[i + 1];
    if (b.start != a.end) return Pair::none;
    if (a.kind == TagKind::parent && a.match == static_cast<int>(i + 1)) return Pair::ordinary;
    if (a.kind == TagKind::block && a.match == static_cast<int>(i + 1)) return Pair::keeps_newline;
    if (a.kind == TagKind::parent && b.kind == TagKind::block && b.owner == static_cast<int>(i)) {
      return Pair::ordinary;
    }
    if (a.kind == TagKind::close && b.kind == TagKind::close && tags_[a.match].kind == TagKind::block &&
        tags_[b.match].kind == TagKind::parent && tags_[a.match].owner == b.match) {
      return Pair::ordinary;
    }
    return Pair::none;
  }

  void mark_standalone() {
    for (Tag& t : tags_) {
      t.emit_start = t.start;
      t.emit_end = t.end;
    }
    constexpr std::size_t npos = std::string_view::npos;
    for (std::size_t i = 0; i < tags_.size(); ++i) {
      Tag& t = tags_[i];
      if (i + 1 < tags_.size()) {
        Pair kind = pair_kind(i);
        if (kind != Pair::none) {
          Tag& u = tags_[i + 1];
          std::size_t ls = blank_before(t.start), le = blank_after(u.end);
          if (ls != npos && le != npos) {
            t.emit_start = static_cast<std::uint32_t>(ls);
            if (kind == Pair::ordinary) u.emit_end = static_cast<std::uint32_t>(le);
            t.standalone = u.standalone = true;
            ++i;
            continue;
          }
        }
      }
      if (!can_stand_alone(t.kind)) continue;
      std::size_t ls = blank_before(t.start), le = blank_after(t.end);
      if (ls != npos && le != npos) {
        t.emit_start = static_cast<std::uint32_t>(ls);
        t.emit_end = static_cast<std::uint32_t>(le);
        t.standalone = true;
      }
    }
  }

  Program& prog_;
  std::string_view src_;
  std::vector<Tag>& tags_;
  std::optional<ParseError> err_;
};

}  // namespace

std::optional<ParseError> scan(Program& prog, std::vector<Tag>& tags) {
  return Scanner(prog, tags).run();
}

ParseError error_at(std::string_view source, std::size_t pos, std::string message) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < pos && i < source.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(source[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return ParseError{line, column, std::move(message)};
}

}  // namespace comms::templates::detail
