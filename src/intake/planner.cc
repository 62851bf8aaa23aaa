#include "intake/planner.h"

#include <boost/json.hpp>

#include "commands/rejected.h"
#include "templates/template.h"

namespace comms::intake {
namespace {

std::string recipient_id(const Event& e, const RecipientRef& ref) {
  switch (ref.kind) {
    case RecipientRef::Kind::customer:
      return e.text(e.spec->customer_field);
    case RecipientRef::Kind::branch: {
      const auto branch = e.text(e.spec->branch_field);
      return branch.empty() ? std::string() : "branch:" + branch;
    }
    case RecipientRef::Kind::staff:
      return ref.id;
  }
  return {};
}

std::string render_text(const templates::Template& t, const boost::json::value& ctx) {
  std::string out;
  (void)templates::render(t, ctx, {.escape = templates::Escape::none}, out);
  return out;
}

}  // namespace

std::set<std::string> Planner::recipients(const Event& e, const EventRules& er) const {
  std::set<std::string> out;
  for (const auto& r : er.notifications)
    for (const auto& ref : r.recipients)
      if (auto id = recipient_id(e, ref); !id.empty()) out.insert(id);
  return out;
}

Plan Planner::plan(const Event& e, std::span<const NotificationRule* const> rules, const Profiles& profiles,
                   Millis now, std::string_view step) const {
  Plan plan;
  const std::string personalization = boost::json::serialize(e.fields);
  // What a fallback text shows: secrets masked, so the stored content never holds them.
  const bool has_secrets = contains_token(personalization);
  boost::json::value context = e.fields;
  if (has_secrets) {
    if (auto masked = reveal_json(personalization, sealer_, Reveal::masked))
      context = boost::json::parse(*masked);
  }
  static const Profile kNobody;

  for (const NotificationRule* rule : rules) {
    if (!rule->applies_to(e)) continue;
    for (const auto& ref : rule->recipients) {
      const std::string rid = recipient_id(e, ref);
      for (const auto channel : rule->channels) {
        Skipped skip{rid, channel, rule->template_name, std::string(step), {}};
        if (rid.empty()) {
          skip.reason = ref.kind == RecipientRef::Kind::branch ? "no_branch" : "no_recipient";
          plan.skipped.push_back(std::move(skip));
          continue;
        }
        auto it = profiles.find(rid);
        const Profile& profile = it == profiles.end() ? kNobody : it->second;
        const auto& prefs = profile.preferences;
        const auto& dir = profile.directory;

        commands::SendNotification cmd;
        cmd.recipient_id = rid;
        cmd.channel = channel;
        cmd.template_category = rule->template_category;
        cmd.template_name = rule->template_name;
        cmd.personalization = personalization;
        cmd.event_id = e.id;
        cmd.correlation_id = e.correlation_id;
        cmd.priority = rule->priority;
        cmd.critical = rule->critical;
        if (rule->fallback_content) cmd.content = render_text(*rule->fallback_content, context);
        if (rule->fallback_subject) cmd.subject = render_text(*rule->fallback_subject, context);

        // The event's own contact details are the freshest; the directory is the fallback.
        if (ref.kind == RecipientRef::Kind::customer) {
          if (channel == domain::Channel::sms) cmd.to = e.text(e.spec->phone_field);
          if (channel == domain::Channel::email) cmd.to = e.text(e.spec->email_field);
        }
        const bool has_address =
            channel == domain::Channel::inapp || !cmd.to.empty() ||
            (dir && !(channel == domain::Channel::sms ? dir->phone : dir->email).empty());
        if (!has_address) {
          skip.reason = "no_address";
          plan.skipped.push_back(std::move(skip));
          continue;
        }

        cmd.locale = !prefs.language.empty()                    ? prefs.language
                     : dir && !dir->language.empty()            ? dir->language
                     : ref.kind == RecipientRef::Kind::customer ? e.text(e.spec->language_field)
                                                                : std::string();
        PlannedSend send{std::move(cmd), std::string(step), false};
        if (!rule->critical) {
          if (auto why = opted_out(prefs, channel, rule->template_category); why != Suppression::none) {
            skip.reason = std::string(to_string(why));
            plan.skipped.push_back(std::move(skip));
            continue;
          }
          const std::string zone = !prefs.timezone.empty()         ? prefs.timezone
                                   : dir && !dir->timezone.empty() ? dir->timezone
                                                                   : "Africa/Lusaka";
          if (auto until = quiet_until(prefs.quiet_start, prefs.quiet_end, zones_.get(zone), now)) {
            send.command.not_before = *until;
            send.deferred = true;
          }
        }
        plan.sends.push_back(std::move(send));
      }
    }
  }
  return plan;
}

void Planner::execute(store::UnitOfWork& uow, const Plan& plan, Millis now, Executed& out) const {
  out.skipped.insert(out.skipped.end(), plan.skipped.begin(), plan.skipped.end());
  for (const auto& s : plan.sends) {
    try {
      commands::SendNotification cmd = s.command;
      commands::validate(cmd);
      out.created.push_back(commands::send_notification(uow, cmd, now).notification);
    } catch (const commands::Rejected& r) {
      // Raised before anything is written: the unit of work stays usable.
      out.skipped.push_back(Skipped{s.command.recipient_id, s.command.channel, s.command.template_name,
                                    s.step, "rejected: " + std::string(r.what())});
    }
  }
}

}  // namespace comms::intake
