// MassTransit's wire format: the JSON envelope (application/vnd.masstransit+json),
// message-type URNs, host info, and the case-insensitive property lookup that
// MassTransit's deserializer applies to payloads.
//
// Pure functions over values; thread-safe.
#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bus/message_bus.h"

namespace comms::bus {

inline constexpr std::string_view kMassTransitContentType = "application/vnd.masstransit+json";

// A body that is not a MassTransit envelope; what() says why, naming the field.
class EnvelopeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Decodes an envelope. `content_type` is the transport's content type: empty
// is accepted (MassTransit's default), anything else but
// application/vnd.masstransit+json or application/json is an EnvelopeError, as
// are invalid JSON, a non-object, a missing/empty messageType, and a message
// that is not a JSON object. Unknown envelope fields are ignored.
Envelope decode_envelope(std::string_view body, std::string_view content_type = kMassTransitContentType);

// Encodes `e` as MassTransit does (camelCase, nulls for empty ids/addresses).
// e.message must be JSON object text and e.host_json JSON object text or empty;
// otherwise EnvelopeError.
std::string encode_envelope(const Envelope& e);

// "urn:message:IntelliFin.Contracts:LoanApplicationCreated" for (ns, type).
std::string message_urn(std::string_view ns, std::string_view type);
// The type name of a "urn:message:Namespace:Type" URN ("Type"); "" when `urn`
// is not one. Generic and nested type names are returned as written.
std::string type_from_urn(std::string_view urn);

// The member of `o` whose key equals `key` ignoring ASCII case (an exact match
// wins over others); nullptr when none.
const boost::json::value* find_ci(const boost::json::object& o, std::string_view key);
// The string member `key` (case-insensitive), or nullptr when absent or not a string.
const boost::json::string* find_string_ci(const boost::json::object& o, std::string_view key);

// This process as MassTransit's "host" object (machineName, processName,
// processId, assembly, assemblyVersion, frameworkVersion, massTransitVersion,
// operatingSystemVersion), computed once.
const boost::json::object& host_info();

}  // namespace comms::bus
