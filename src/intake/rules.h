// The rules: what the service does on each event type. Configuration, not
// code: loaded from a JSON file (COMMS_RULES_FILE, default config/rules.json,
// documented in docs/rules.md) at start-up and validated there, so a bad rule
// stops the service with a message naming it instead of failing at run time.
//
// Immutable once loaded: thread-safe.
#pragma once
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/notification.h"
#include "intake/payload.h"
#include "templates/template.h"

namespace comms::intake {

// A rules file that cannot be used; what() names the file and the rule, e.g.
// "config/rules.json: events.OtpRequested.notifications[0].channels[1]: unknown channel 'fax'".
class RulesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RecipientRef {
  enum class Kind { customer, branch, staff };
  Kind kind = Kind::customer;
  std::string id;  // staff: the staff member's recipient id
};

// A rule applies only when the event's numeric `field` is in [at_least, below),
// or its text equals `equals`.
struct Condition {
  std::string field;
  std::optional<double> at_least;
  std::optional<double> below;
  std::optional<std::string> equals;
};

struct NotificationRule {
  std::string label;  // "events.PaymentOverdue.notifications[1]", for messages
  std::string step;   // the workflow step it belongs to; "" without a workflow
  std::string template_category;
  std::string template_name;
  std::vector<domain::Channel> channels;
  std::vector<RecipientRef> recipients;
  int priority = 0;
  bool critical = false;  // bypasses opt-out and quiet hours
  // Literal text used until the template engine has the named template
  // (Mustache over the event's fields; rendered at intake).
  std::optional<templates::Template> fallback_content;
  std::optional<templates::Template> fallback_subject;
  std::optional<Condition> when;

  bool applies_to(const Event& e) const;
};

struct EventRules {
  std::string workflow;  // a workflows::StateMachine name, or "" (send everything at once)
  std::vector<NotificationRule> notifications;

  // The rules of `step` ("" = every rule, for events without a workflow).
  std::vector<const NotificationRule*> for_step(std::string_view step) const;
};

class Rules {
 public:
  // Parses and validates; `source` names the file in messages. Throws RulesError.
  static Rules parse(std::string_view json, const std::string& source);
  static Rules load_file(const std::string& path);

  // nullptr when the event type has no rules (it is still consumed: inbox,
  // directory effects).
  const EventRules* for_event(std::string_view type) const;
  // The first rule naming this template (for its fallback text), or nullptr.
  const NotificationRule* find_template(std::string_view category, std::string_view name) const;
  std::size_t event_count() const { return events_.size(); }

 private:
  std::map<std::string, EventRules, std::less<>> events_;
};

// The rules file shipped with the service: config/rules.json beside the
// binary's build or install folder (../config/rules.json, then
// config/rules.json relative to the executable, then to the working directory).
std::string shipped_rules_path();

}  // namespace comms::intake
