// The Notification aggregate (the seed's NotificationLog) and its status machine.
// Value types only: no I/O. Thread-compatible (no internal synchronization).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace comms::domain {

using comms::Millis;

enum class Channel { sms, email, inapp };
enum class Status { pending, sending, sent, delivered, failed, cancelled };

// Wire names: "sms", "email", "inapp".
std::string_view to_string(Channel c);
std::optional<Channel> parse_channel(std::string_view s);
// Wire names: "Pending", "Sending", "Sent", "Delivered", "Failed", "Cancelled".
// parse_status is case-insensitive.
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view s);

// True when no further state change is expected (Delivered, Failed, Cancelled).
bool is_terminal(Status s);
// The allowed edges of the status machine:
//   Pending -> Sending | Cancelled | Failed
//   Sending -> Sent | Pending (retry) | Failed | Delivered
//   Sent -> Delivered | Failed (a delivery report) ; Failed -> Pending (admin re-drive)
bool can_transition(Status from, Status to);

struct Notification {
  std::string id;              // UUID
  std::string event_id;        // the intake event that produced it; may be empty
  std::string correlation_id;  // workflow / saga correlation; may be empty
  std::string recipient_id;
  Channel channel = Channel::sms;
  std::string to;              // explicit address (E.164 phone or email); empty = from the recipient
  std::string template_category;
  std::string template_name;
  std::string locale;          // rendering locale; empty = recipient's language
  std::string personalization; // JSON object text used to render the template
  std::string subject;
  std::string content;
  Status status = Status::pending;
  int priority = 0;            // higher first
  bool critical = false;       // bypasses opt-out and quiet hours
  int attempts = 0;
  Millis next_attempt_at = 0;
  Millis lease_until = 0;      // while Sending: the claim expires at this time
  std::string provider;        // which provider sent it
  std::string provider_message_id;
  std::int64_t cost_micros = 0;  // cost in millionths of the currency unit
  std::string currency;
  std::string last_error;
  Millis created_at = 0;
  Millis sent_at = 0;
  Millis delivered_at = 0;
  Millis read_at = 0;          // in-app only
  std::int64_t version = 0;    // optimistic concurrency; bumped by every update
};

struct Recipient {
  std::string id;
  std::string name;
  std::string phone;     // E.164, e.g. +260971234567
  std::string email;
  std::string language = "en";
  std::string timezone = "Africa/Lusaka";
  std::string branch_id;
  Millis updated_at = 0;
  std::int64_t version = 0;
};

}  // namespace comms::domain
