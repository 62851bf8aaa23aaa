// The event catalogue: every domain event the service consumes, with its
// fields (camelCase, as the .NET publishers serialize them) and the roles some
// fields play (who "the customer" is, where their phone number is). Documented
// field by field in docs/events.md; keep the two in step.
//
// Immutable static data: thread-safe.
#pragma once
#include <span>
#include <string_view>
#include <vector>

namespace comms::intake {

enum class FieldKind {
  text,      // a JSON string
  id,        // a string, or a number (normalized to its decimal text)
  money,     // a number, or a numeric string (normalized to a number); not negative
  integer,   // an integer, or an integral string (normalized to an integer)
  boolean,   // true or false
  datetime,  // an ISO-8601 date-time string (kept as sent)
  date,      // an ISO-8601 date or date-time string (kept as sent)
  currency,  // an ISO-4217 code (three letters, upper-cased); defaults to ZMW
  phone,     // E.164, or a Zambian local number (0971234567 -> +260971234567)
  email,     // an email address
  language,  // a language tag (en, bem, ny, en-ZM)
  secret,    // a one-time secret (OTP code, reset token): sealed at once, never stored or logged in clear
};

struct FieldSpec {
  std::string_view name;  // canonical camelCase name
  FieldKind kind;
  bool required = false;
};

// What an event does to the recipient directory.
enum class DirectoryEffect {
  none,
  upsert,  // creates or replaces the contact (ClientCreated, UserRegistered)
  update,  // changes only the contact fields present (ClientContactUpdated)
};

struct EventSpec {
  std::string_view type;              // the MassTransit message type name, e.g. "LoanApplicationCreated"
  std::string_view area;              // "Loan Origination", "Collections", "Identity", "Client Management"
  std::span<const FieldSpec> fields;  // besides the common ones (common_fields())
  // Field roles ("" when the event has none).
  std::string_view customer_field;  // the id of the recipient called "customer" in rules
  std::string_view name_field;
  std::string_view phone_field;
  std::string_view email_field;
  std::string_view language_field;
  std::string_view branch_field;  // used by the "branch" recipient: branch:{branchId}
  DirectoryEffect directory = DirectoryEffect::none;
  // ClientCreated names the person in two fields.
  std::string_view first_name_field;
  std::string_view last_name_field;
};

// eventId, eventTimestamp and correlationId: optional on every event.
std::span<const FieldSpec> common_fields();
std::span<const EventSpec> catalogue();
// Exact, case-sensitive match on the type name (as MassTransit's URNs are).
const EventSpec* find_event(std::string_view type);
// The field called `name` in `spec` (common fields included), or nullptr.
const FieldSpec* find_field(const EventSpec& spec, std::string_view name);
// The numeric kinds (money, integer), usable in rule conditions.
bool is_numeric(FieldKind k);

}  // namespace comms::intake
