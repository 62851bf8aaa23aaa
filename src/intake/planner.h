// The plan: which notifications an event (or a workflow step) produces, once
// rules, the directory and preferences have had their say. Computing a plan
// is pure; executing it inserts the notifications through the send command
// inside the caller's unit of work (the one that also records the event in
// the inbox).
//
// Thread-safety: a Planner is immutable apart from its TimeZones cache, which
// is locked; share it freely.
#pragma once
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "commands/send_notification.h"
#include "intake/payload.h"
#include "intake/preference_service.h"
#include "intake/preferences.h"
#include "intake/rules.h"
#include "intake/secrets.h"
#include "store/store.h"

namespace comms::intake {

struct PlannedSend {
  commands::SendNotification command;
  std::string step;
  bool deferred = false;  // quiet hours pushed not_before
};

// A notification a rule asked for but that was not created, and why
// ("channel_opted_out", "category_opted_out", "no_address", "no_branch",
// "rejected: <reason>").
struct Skipped {
  std::string recipient_id;
  domain::Channel channel = domain::Channel::sms;
  std::string template_name;
  std::string step;
  std::string reason;
};

struct Plan {
  std::vector<PlannedSend> sends;
  std::vector<Skipped> skipped;
};

// What executing plans created.
struct Executed {
  std::vector<domain::Notification> created;
  std::vector<Skipped> skipped;
};

class Planner {
 public:
  Planner(const Sealer& sealer, TimeZones& zones) : sealer_(sealer), zones_(zones) {}

  // Every recipient id the rules of `er` can address for `e` (for loading profiles).
  std::set<std::string> recipients(const Event& e, const EventRules& er) const;

  // The notifications of `rules` (those whose condition holds) for `e` at `now`.
  // `profiles` should hold every id recipients() returned; a missing one
  // counts as "no directory entry, default preferences".
  Plan plan(const Event& e, std::span<const NotificationRule* const> rules, const Profiles& profiles,
            Millis now, std::string_view step = {}) const;

  // Inserts the planned notifications (Pending) through commands::send_notification.
  // A send the command rejects is recorded as skipped; store errors propagate.
  void execute(store::UnitOfWork& uow, const Plan& plan, Millis now, Executed& out) const;

 private:
  const Sealer& sealer_;
  TimeZones& zones_;
};

}  // namespace comms::intake
