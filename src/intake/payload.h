// Parsing an event's payload against the catalogue.
//
// Property names are matched case-insensitively (as MassTransit's System.Text.Json
// settings do) and come out under their canonical camelCase names; properties
// the catalogue does not know are dropped, so only catalogued data reaches
// templates and the database. Values are checked and normalized per
// FieldKind; secret fields are sealed here, before anything else sees them.
//
// A bad payload is a commands::Rejected(invalid, "invalid_event") whose message
// names the event type and the field, never the value. Pure apart from the
// sealer's randomness; thread-safe.
#pragma once
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "domain/address.h"
#include "intake/catalogue.h"
#include "intake/secrets.h"

namespace comms::intake {

struct Event {
  const EventSpec* spec = nullptr;
  std::string id;              // eventId, else the envelope's messageId
  std::string correlation_id;  // the envelope's, else the payload's correlationId, else id
  Millis timestamp = 0;        // eventTimestamp, else 0
  boost::json::object fields;  // canonical names; secrets sealed

  // The string value of `field` ("" when absent or `field` is "").
  std::string text(std::string_view field) const;
};

// Parses `payload_json` (a JSON object text) as an event of type `spec`.
// `message_id` and `envelope_correlation_id` come from the envelope ("" if none).
Event parse_event(const EventSpec& spec, std::string_view payload_json, std::string_view message_id,
                  std::string_view envelope_correlation_id, const Sealer& sealer);

using domain::normalize_phone;  // (domain/address.h)

}  // namespace comms::intake
