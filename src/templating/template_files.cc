#include "templating/template_files.h"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/ids.h"
#include "templating/template_service.h"

namespace comms::templating {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr int kMaxSegments = 10;

struct Position {
  int line = 1;
  int column = 1;
};

Position position_at(std::string_view text, std::size_t offset) {
  Position p;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++p.column;  // count code points, not bytes
    }
  }
  return p;
}

// Where the key "field" appears in the file; the start of the file when it does not.
Position position_of(std::string_view text, std::string_view field) {
  const std::string quoted = "\"" + std::string(field) + "\"";
  for (std::size_t at = text.find(quoted); at != std::string_view::npos; at = text.find(quoted, at + 1)) {
    const auto next = text.find_first_not_of(" \t\r\n", at + quoted.size());
    if (next != std::string_view::npos && text[next] == ':') return position_at(text, at);
  }
  return {};
}

class Reader {
 public:
  Reader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  [[noreturn]] void fail(Position p, const std::string& message) const {
    throw TemplateFileError(source_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                            message);
  }
  [[noreturn]] void fail(std::string_view field, const std::string& message) const {
    fail(position_of(text_, field), message);
  }

  json::object parse() const {
    json::stream_parser p;
    boost::system::error_code ec;
    const std::size_t used = p.write_some(text_.data(), text_.size(), ec);
    if (!ec) p.finish(ec);
    if (ec) fail(position_at(text_, used), "not valid JSON: " + ec.message());
    json::value v = p.release();
    if (!v.is_object()) fail(Position{}, "expected a JSON object");
    return std::move(v.get_object());
  }

  std::string text(const json::object& o, std::string_view field, bool required) const {
    const auto* v = o.if_contains(field);
    if (!v || v->is_null()) {
      if (required) fail(Position{}, "missing field '" + std::string(field) + "'");
      return {};
    }
    if (!v->is_string()) fail(field, "field '" + std::string(field) + "' must be a string");
    return std::string(v->get_string());
  }

 private:
  std::string_view text_;
  const std::string& source_;
};

bool is_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// "en", "bem", "ny", "en-ZM", "es-419": a lower-case language and an optional region.
bool is_locale(std::string_view s) {
  const auto dash = s.find('-');
  const auto lang = s.substr(0, dash);
  if (lang.size() < 2 || lang.size() > 8 || !std::all_of(lang.begin(), lang.end(), [](char c) {
        return c >= 'a' && c <= 'z';
      }))
    return false;
  if (dash == std::string_view::npos) return true;
  const auto region = s.substr(dash + 1);
  const bool alpha = region.size() == 2 && std::all_of(region.begin(), region.end(), [](char c) {
                       return c >= 'A' && c <= 'Z';
                     });
  const bool digits = region.size() == 3 && std::all_of(region.begin(), region.end(), [](char c) {
                        return c >= '0' && c <= '9';
                      });
  return alpha || digits;
}

bool same_content(const store::TemplateContent& a, const store::TemplateContent& b) {
  return a.subject == b.subject && a.body == b.body && a.html_body == b.html_body &&
         a.max_segments == b.max_segments && a.strict == b.strict;
}

std::string key_of(const TemplateFile& f) {
  return f.category + "/" + f.name + "/" + std::string(domain::to_string(f.channel)) + "/" + f.locale;
}

}  // namespace

store::TemplateRecord new_record(const TemplateFile& f) {
  store::TemplateRecord t;
  t.id = new_uuid();
  t.category = f.category;
  t.name = f.name;
  t.channel = f.channel;
  t.locale = f.locale;
  t.description = f.description;
  t.active = f.content;
  return t;
}

TemplateFile parse_template_file(std::string_view text, const std::string& source) {
  const Reader r(text, source);
  const json::object o = r.parse();
  static const std::vector<std::string_view> kFields = {"category", "name",     "channel",     "locale", "description",
                                                        "subject",  "body",     "htmlBody",    "maxSegments", "strict"};
  for (const auto& kv : o) {
    if (std::find(kFields.begin(), kFields.end(), kv.key()) == kFields.end())
      r.fail(kv.key(), "unknown field '" + std::string(kv.key()) +
                           "' (expected category, name, channel, locale, description, subject, body, htmlBody, "
                           "maxSegments, strict)");
  }
  TemplateFile f;
  f.source = source;
  f.category = r.text(o, "category", true);
  if (!is_name(f.category)) r.fail("category", "field 'category' must be 1 to 64 letters, digits, '-', '_' or '.'");
  f.name = r.text(o, "name", true);
  if (!is_name(f.name)) r.fail("name", "field 'name' must be 1 to 64 letters, digits, '-', '_' or '.'");
  const auto channel = r.text(o, "channel", true);
  const auto parsed = domain::parse_channel(channel);
  if (!parsed) r.fail("channel", "field 'channel' must be sms, email or inapp, got '" + channel + "'");
  f.channel = *parsed;
  if (o.contains("locale")) f.locale = r.text(o, "locale", true);
  if (!is_locale(f.locale))
    r.fail("locale", "field 'locale' must be a language tag such as en, bem, ny or en-ZM, got '" + f.locale + "'");
  f.description = r.text(o, "description", false);
  f.content.subject = r.text(o, "subject", false);
  f.content.body = r.text(o, "body", false);
  f.content.html_body = r.text(o, "htmlBody", false);
  if (const auto* m = o.if_contains("maxSegments")) {
    if (!m->is_int64() || m->get_int64() < 0 || m->get_int64() > kMaxSegments)
      r.fail("maxSegments", "field 'maxSegments' must be an integer from 0 to " + std::to_string(kMaxSegments));
    if (f.channel != domain::Channel::sms) r.fail("maxSegments", "field 'maxSegments' is for sms templates only");
    f.content.max_segments = static_cast<int>(m->get_int64());
  }
  if (const auto* s = o.if_contains("strict")) {
    if (!s->is_bool()) r.fail("strict", "field 'strict' must be true or false");
    f.content.strict = s->get_bool();
  }

  switch (f.channel) {
    case domain::Channel::sms:
      if (!f.content.subject.empty()) r.fail("subject", "sms templates have no subject");
      if (!f.content.html_body.empty()) r.fail("htmlBody", "sms templates have no htmlBody");
      if (f.content.body.empty()) r.fail(Position{}, "missing field 'body'");
      break;
    case domain::Channel::email:
      if (f.content.subject.empty()) r.fail(Position{}, "missing field 'subject' (email templates need one)");
      if (f.content.body.empty() && f.content.html_body.empty())
        r.fail(Position{}, "missing field 'body' or 'htmlBody'");
      break;
    case domain::Channel::inapp:
      if (!f.content.html_body.empty()) r.fail("htmlBody", "in-app templates have no htmlBody");
      if (f.content.body.empty()) r.fail(Position{}, "missing field 'body'");
      break;
  }
  std::string error;
  if (!compile_content(f.content, error)) {
    // error: "html_body 3:12: ..." -> the file's field name and the position inside the template
    const auto space = error.find(' ');
    const std::string part = error.substr(0, space);
    const std::string field = part == "html_body" ? "htmlBody" : part;
    r.fail(field, "field '" + field + "' does not compile at " + error.substr(space + 1));
  }
  return f;
}

std::string template_file_name(const store::TemplateRecord& t) {
  return t.category + "/" + t.name + "." + std::string(domain::to_string(t.channel)) + "." + t.locale + ".json";
}

std::string format_template_file(const store::TemplateRecord& t) {
  // Written by hand (not json::serialize) so that the file is indented, in a fixed field order.
  auto field = [](std::string& out, std::string_view key, const json::value& v, bool last = false) {
    out += "  \"";
    out += key;
    out += "\": ";
    out += json::serialize(v);
    out += last ? "\n" : ",\n";
  };
  std::string out = "{\n";
  field(out, "category", json::string(t.category));
  field(out, "name", json::string(t.name));
  field(out, "channel", json::string(domain::to_string(t.channel)));
  field(out, "locale", json::string(t.locale));
  field(out, "description", json::string(t.description));
  if (!t.active.subject.empty()) field(out, "subject", json::string(t.active.subject));
  field(out, "body", json::string(t.active.body));
  if (!t.active.html_body.empty()) field(out, "htmlBody", json::string(t.active.html_body));
  if (t.channel == domain::Channel::sms) field(out, "maxSegments", t.active.max_segments);
  field(out, "strict", t.active.strict, true);
  out += "}\n";
  return out;
}

std::vector<TemplateFile> read_template_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir + ": not a folder");
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") paths.push_back(it->path());
  }
  if (ec) throw std::runtime_error(dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  std::vector<TemplateFile> files;
  std::map<std::string, std::string> seen;  // key -> source
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error(p.string() + ": cannot be read");
    auto f = parse_template_file(text.str(), p.string());
    auto [it, fresh] = seen.emplace(key_of(f), f.source);
    if (!fresh)
      throw TemplateFileError(f.source + ":1:1: template " + key_of(f) + " is also defined in " + it->second);
    files.push_back(std::move(f));
  }
  return files;
}

ImportCounts import_templates(store::Store& store, const std::vector<TemplateFile>& files,
                              const std::string& created_by) {
  ImportCounts counts;
  store::write_sync(store, [&](store::UnitOfWork& uow) {
    counts = {};
    auto& repo = uow.templates();
    for (const auto& f : files) {
      auto existing = repo.find(f.category, f.name, f.channel, f.locale);
      if (!existing) {
        auto t = new_record(f);
        repo.create(t, created_by);
        ++counts.created;
      } else if (!same_content(existing->active, f.content)) {
        existing->active = f.content;
        existing->description = f.description;
        repo.add_version(*existing, created_by);
        ++counts.updated;
      } else {
        ++counts.unchanged;
      }
    }
  });
  return counts;
}

std::vector<store::TemplateRecord> all_templates(store::Store& store) {
  std::vector<store::TemplateRecord> out;
  store::read_sync(store, [&](store::UnitOfWork& uow) {
    out.clear();
    store::TemplateQuery q;
    q.page_size = 1000;
    for (q.page = 1;; ++q.page) {
      auto page = uow.templates().query(q);
      out.insert(out.end(), page.items.begin(), page.items.end());
      if (page.items.empty() || static_cast<std::int64_t>(out.size()) >= page.total) break;
    }
  });
  return out;
}

}  // namespace comms::templating
