#include "intake/rules.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "workflows/state_machine.h"

namespace comms::intake {
namespace {

namespace json = boost::json;

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw RulesError(source_ + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  const json::object& object(const json::value& v, const std::string& where) const {
    if (!v.is_object()) fail(where, "must be a JSON object");
    return v.get_object();
  }

  void only_keys(const json::object& o, const std::string& where,
                 std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : o) {
      bool ok = false;
      for (auto k : keys) ok = ok || kv.key() == k;
      if (!ok) fail(where, "unknown key '" + std::string(kv.key()) + "'");
    }
  }

  std::string string(const json::object& o, std::string_view key, const std::string& where,
                     bool required) const {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(where, "missing '" + std::string(key) + "'");
      return {};
    }
    if (!it->value().is_string() || it->value().get_string().empty())
      fail(where + "." + std::string(key), "must be a non-empty string");
    return std::string(it->value().get_string());
  }

  std::optional<templates::Template> mustache(const json::object& o, std::string_view key,
                                              const std::string& where) const {
    auto text = string(o, key, where, false);
    if (text.empty()) return std::nullopt;
    auto compiled = templates::compile(text);
    if (!compiled)
      fail(where + "." + std::string(key), "template error at line " + std::to_string(compiled.error().line) +
                                               ", column " + std::to_string(compiled.error().column) + ": " +
                                               compiled.error().message);
    return std::move(compiled).value();
  }

  NotificationRule rule(const EventSpec& spec, const json::value& v, const std::string& where) const {
    const auto& o = object(v, where);
    only_keys(o, where,
              {"description", "step", "template", "channels", "recipients", "priority", "critical",
               "fallbackContent", "fallbackSubject", "when"});
    NotificationRule r;
    r.label = where;
    r.step = string(o, "step", where, false);

    auto t = o.find("template");
    if (t == o.end()) fail(where, "missing 'template' (an object with 'category' and 'name')");
    const auto& tpl = object(t->value(), where + ".template");
    only_keys(tpl, where + ".template", {"category", "name"});
    r.template_category = string(tpl, "category", where + ".template", true);
    r.template_name = string(tpl, "name", where + ".template", true);

    auto ch = o.find("channels");
    if (ch == o.end() || !ch->value().is_array() || ch->value().get_array().empty())
      fail(where, "'channels' must be a non-empty array of sms, email, inapp");
    for (std::size_t i = 0; i < ch->value().get_array().size(); ++i) {
      const auto& c = ch->value().get_array()[i];
      const std::string at = where + ".channels[" + std::to_string(i) + "]";
      const auto parsed = c.is_string() ? domain::parse_channel(c.get_string()) : std::nullopt;
      if (!parsed)
        fail(at, "unknown channel " +
                     (c.is_string() ? "'" + std::string(c.get_string()) + "'" : json::serialize(c)) +
                     " (expected sms, email or inapp)");
      r.channels.push_back(*parsed);
    }

    auto rc = o.find("recipients");
    if (rc == o.end() || !rc->value().is_array() || rc->value().get_array().empty())
      fail(where, "'recipients' must be a non-empty array of \"customer\", \"branch\" or \"staff:<id>\"");
    for (std::size_t i = 0; i < rc->value().get_array().size(); ++i) {
      const auto& x = rc->value().get_array()[i];
      const std::string at = where + ".recipients[" + std::to_string(i) + "]";
      const std::string s = x.is_string() ? std::string(x.get_string()) : std::string();
      RecipientRef ref;
      if (s == "customer") {
        if (spec.customer_field.empty()) fail(at, std::string(spec.type) + " has no customer");
        ref.kind = RecipientRef::Kind::customer;
      } else if (s == "branch") {
        if (spec.branch_field.empty())
          fail(at, std::string(spec.type) + " has no branchId, so no branch to notify");
        for (auto c : r.channels)
          if (c != domain::Channel::inapp)
            fail(at,
                 "the branch staff group is reached in-app only; use channel inapp, or name staff with "
                 "\"staff:<id>\"");
        ref.kind = RecipientRef::Kind::branch;
      } else if (s.starts_with("staff:") && s.size() > 6 && s.size() <= 134) {
        ref.kind = RecipientRef::Kind::staff;
        ref.id = s.substr(6);
      } else {
        fail(at, "unknown recipient " + (x.is_string() ? "'" + s + "'" : json::serialize(x)) +
                     " (expected \"customer\", \"branch\" or \"staff:<id>\")");
      }
      r.recipients.push_back(std::move(ref));
    }

    if (auto p = o.find("priority"); p != o.end()) {
      if (!p->value().is_int64() || p->value().get_int64() < 0 || p->value().get_int64() > 9)
        fail(where + ".priority", "must be an integer from 0 to 9");
      r.priority = static_cast<int>(p->value().get_int64());
    }
    if (auto c = o.find("critical"); c != o.end()) {
      if (!c->value().is_bool()) fail(where + ".critical", "must be true or false");
      r.critical = c->value().get_bool();
    }
    r.fallback_content = mustache(o, "fallbackContent", where);
    r.fallback_subject = mustache(o, "fallbackSubject", where);
    if (auto w = o.find("when"); w != o.end()) r.when = condition(spec, w->value(), where + ".when");
    return r;
  }

  Condition condition(const EventSpec& spec, const json::value& v, const std::string& where) const {
    const auto& o = object(v, where);
    only_keys(o, where, {"field", "atLeast", "below", "equals"});
    Condition c;
    c.field = string(o, "field", where, true);
    const FieldSpec* f = find_field(spec, c.field);
    if (!f) fail(where + ".field", std::string(spec.type) + " has no field '" + c.field + "'");
    if (f->kind == FieldKind::secret) fail(where + ".field", "conditions cannot read a secret field");
    auto num = [&](std::string_view key) -> std::optional<double> {
      auto it = o.find(key);
      if (it == o.end()) return std::nullopt;
      if (!is_numeric(f->kind))
        fail(where, "'" + std::string(key) + "' needs a numeric field; '" + c.field + "' is not");
      if (!it->value().is_number()) fail(where + "." + std::string(key), "must be a number");
      return it->value().to_number<double>();
    };
    c.at_least = num("atLeast");
    c.below = num("below");
    c.equals = o.contains("equals") ? std::optional(string(o, "equals", where, true)) : std::nullopt;
    if (!c.at_least && !c.below && !c.equals) fail(where, "give 'atLeast', 'below' or 'equals'");
    return c;
  }

  EventRules event(const EventSpec& spec, const json::value& v, const std::string& where) const {
    const auto& o = object(v, where);
    only_keys(o, where, {"description", "workflow", "notifications"});
    EventRules er;
    er.workflow = string(o, "workflow", where, false);
    const workflows::StateMachine* machine = nullptr;
    if (!er.workflow.empty()) {
      machine = workflows::find_machine(er.workflow);
      if (!machine) {
        std::string known;
        for (auto n : workflows::machine_names()) known += (known.empty() ? "" : ", ") + std::string(n);
        fail(where + ".workflow", "unknown workflow '" + er.workflow + "' (known: " + known + ")");
      }
    }
    auto n = o.find("notifications");
    if (n == o.end() || !n->value().is_array())
      fail(where, "'notifications' must be an array (it may be empty)");
    const auto& arr = n->value().get_array();
    for (std::size_t i = 0; i < arr.size(); ++i)
      er.notifications.push_back(rule(spec, arr[i], where + ".notifications[" + std::to_string(i) + "]"));
    for (const auto& r : er.notifications) {
      if (!machine && !r.step.empty()) fail(r.label + ".step", "'step' needs a workflow on the event");
      if (!machine) continue;
      bool known = false;
      for (auto s : machine->steps()) known = known || s == r.step;
      if (!known) fail(r.label + ".step", "workflow '" + er.workflow + "' has no step '" + r.step + "'");
    }
    if (machine) {
      for (auto s : machine->steps())
        if (er.for_step(s).empty())
          fail(where, "workflow '" + er.workflow + "' needs a rule for step '" + std::string(s) + "'");
    }
    return er;
  }

 private:
  std::string source_;
};

double numeric(const json::value& v) {
  return v.is_number() ? v.to_number<double>() : 0;
}

}  // namespace

bool NotificationRule::applies_to(const Event& e) const {
  if (!when) return true;
  auto it = e.fields.find(when->field);
  if (it == e.fields.end()) return false;
  const auto& v = it->value();
  if (when->equals) return v.is_string() && v.get_string() == *when->equals;
  if (!v.is_number()) return false;
  const double d = numeric(v);
  if (when->at_least && d < *when->at_least) return false;
  if (when->below && d >= *when->below) return false;
  return true;
}

std::vector<const NotificationRule*> EventRules::for_step(std::string_view step) const {
  std::vector<const NotificationRule*> out;
  for (const auto& r : notifications)
    if (step.empty() || r.step == step) out.push_back(&r);
  return out;
}

Rules Rules::parse(std::string_view text, const std::string& source) {
  Parser p(source);
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec) p.fail("", "invalid JSON (" + ec.message() + ")");
  const auto& top = p.object(doc, "");
  p.only_keys(top, "", {"version", "description", "events"});
  if (auto v = top.find("version"); v != top.end() && !(v->value().is_int64() && v->value().get_int64() == 1))
    p.fail("version", "only version 1 is understood");
  auto ev = top.find("events");
  if (ev == top.end()) p.fail("", "missing 'events'");
  Rules rules;
  for (const auto& kv : p.object(ev->value(), "events")) {
    const std::string where = "events." + std::string(kv.key());
    const EventSpec* spec = find_event(kv.key());
    if (!spec) {
      std::string known;
      for (const auto& e : catalogue()) known += (known.empty() ? "" : ", ") + std::string(e.type);
      p.fail(where, "unknown event type '" + std::string(kv.key()) + "' (known: " + known + ")");
    }
    rules.events_.emplace(std::string(kv.key()), p.event(*spec, kv.value(), where));
  }
  return rules;
}

Rules Rules::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw RulesError(path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

const EventRules* Rules::for_event(std::string_view type) const {
  auto it = events_.find(type);
  return it == events_.end() ? nullptr : &it->second;
}

const NotificationRule* Rules::find_template(std::string_view category, std::string_view name) const {
  for (const auto& [type, er] : events_)
    for (const auto& r : er.notifications)
      if (r.template_category == category && r.template_name == name) return &r;
  return nullptr;
}

std::string shipped_rules_path() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "config" / "rules.json");
    candidates.push_back(exe.parent_path() / "config" / "rules.json");
  }
  candidates.push_back(fs::path("config") / "rules.json");
  for (const auto& c : candidates)
    if (fs::exists(c, ec)) return c.lexically_normal().string();
  return candidates.back().string();
}

}  // namespace comms::intake
