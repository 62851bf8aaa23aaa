#include "bus/masstransit.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/version.hpp>
#include <cctype>
#include <fstream>

namespace comms::bus {
namespace {

namespace json = boost::json;

constexpr std::string_view kUrnPrefix = "urn:message:";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void check_content_type(std::string_view content_type) {
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (media.empty() || iequals(media, kMassTransitContentType) || iequals(media, "application/json")) return;
  throw EnvelopeError("unsupported content type '" + std::string(content_type) + "' (expected " +
                      std::string(kMassTransitContentType) + ")");
}

// A string-or-null envelope field.
std::string text_field(const json::object& o, std::string_view name) {
  const json::value* v = find_ci(o, name);
  if (!v || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  throw EnvelopeError("envelope field '" + std::string(name) + "' must be a string or null");
}

json::value id_or_null(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

}  // namespace

std::string Envelope::type_name() const {
  for (const auto& urn : message_type)
    if (auto t = type_from_urn(urn); !t.empty()) return t;
  return {};
}

const json::value* find_ci(const json::object& o, std::string_view key) {
  if (auto* exact = o.if_contains(key)) return exact;
  for (const auto& kv : o)
    if (iequals(kv.key(), key)) return &kv.value();
  return nullptr;
}

const json::string* find_string_ci(const json::object& o, std::string_view key) {
  const json::value* v = find_ci(o, key);
  return v ? v->if_string() : nullptr;
}

std::string message_urn(std::string_view ns, std::string_view type) {
  std::string out(kUrnPrefix);
  out += ns;
  out += ':';
  out += type;
  return out;
}

std::string type_from_urn(std::string_view urn) {
  if (urn.size() <= kUrnPrefix.size() || !iequals(urn.substr(0, kUrnPrefix.size()), kUrnPrefix)) return {};
  const std::string_view rest = urn.substr(kUrnPrefix.size());
  // Generic arguments ("Batch[[urn:message:Ns:Item]]") contain colons: cut at the first '[' first.
  const std::string_view head = rest.substr(0, rest.find('['));
  const auto colon = head.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= head.size()) return {};
  return std::string(rest.substr(colon + 1));
}

Envelope decode_envelope(std::string_view body, std::string_view content_type) {
  check_content_type(content_type);
  // The parsed document is scratch: a stack buffer saves most of its allocations.
  unsigned char scratch[16384];
  json::monotonic_resource mr(scratch, sizeof scratch);
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec, &mr);
  if (ec) throw EnvelopeError("body is not valid JSON (" + ec.message() + ")");
  const json::object* o = doc.if_object();
  if (!o) throw EnvelopeError("envelope must be a JSON object");

  Envelope e;
  e.message_id = text_field(*o, "messageId");
  e.request_id = text_field(*o, "requestId");
  e.correlation_id = text_field(*o, "correlationId");
  e.conversation_id = text_field(*o, "conversationId");
  e.initiator_id = text_field(*o, "initiatorId");
  e.source_address = text_field(*o, "sourceAddress");
  e.destination_address = text_field(*o, "destinationAddress");
  e.response_address = text_field(*o, "responseAddress");
  e.fault_address = text_field(*o, "faultAddress");
  e.expiration_time = text_field(*o, "expirationTime");
  e.sent_time = text_field(*o, "sentTime");

  const json::value* types = find_ci(*o, "messageType");
  if (!types || !types->is_array() || types->get_array().empty())
    throw EnvelopeError("envelope field 'messageType' must be a non-empty array of message URNs");
  for (const auto& t : types->get_array()) {
    if (!t.is_string()) throw EnvelopeError("envelope field 'messageType' must contain only strings");
    e.message_type.emplace_back(t.get_string());
  }
  if (e.type_name().empty())
    throw EnvelopeError("envelope field 'messageType' has no urn:message:Namespace:Type entry");

  const json::value* message = find_ci(*o, "message");
  if (!message || !message->is_object())
    throw EnvelopeError("envelope field 'message' must be a JSON object");
  e.message = json::serialize(*message);

  if (const json::value* headers = find_ci(*o, "headers"); headers && !headers->is_null()) {
    if (!headers->is_object()) throw EnvelopeError("envelope field 'headers' must be an object");
    for (const auto& kv : headers->get_object())
      e.headers[std::string(kv.key())] =
          kv.value().is_string() ? std::string(kv.value().get_string()) : json::serialize(kv.value());
  }
  const json::value* host = find_ci(*o, "host");
  e.host_json = host && host->is_object() ? json::serialize(*host) : "{}";
  return e;
}

std::string encode_envelope(const Envelope& e) {
  boost::system::error_code ec;
  json::value message = json::parse(e.message, ec);
  if (ec || !message.is_object()) throw EnvelopeError("message must be JSON object text");
  json::value host = json::object();
  if (!e.host_json.empty()) {
    host = json::parse(e.host_json, ec);
    if (ec || !host.is_object()) throw EnvelopeError("host must be JSON object text");
  }
  json::array types;
  for (const auto& t : e.message_type) types.emplace_back(t);
  json::object headers;
  for (const auto& [k, v] : e.headers) headers[k] = v;

  json::object o;
  o.reserve(16);
  o["messageId"] = id_or_null(e.message_id);
  o["requestId"] = id_or_null(e.request_id);
  o["correlationId"] = id_or_null(e.correlation_id);
  o["conversationId"] = id_or_null(e.conversation_id);
  o["initiatorId"] = id_or_null(e.initiator_id);
  o["sourceAddress"] = id_or_null(e.source_address);
  o["destinationAddress"] = id_or_null(e.destination_address);
  o["responseAddress"] = id_or_null(e.response_address);
  o["faultAddress"] = id_or_null(e.fault_address);
  o["messageType"] = std::move(types);
  o["message"] = std::move(message);
  o["expirationTime"] = id_or_null(e.expiration_time);
  o["sentTime"] = id_or_null(e.sent_time);
  o["headers"] = std::move(headers);
  o["host"] = std::move(host);
  return json::serialize(o);
}

const json::object& host_info() {
  static const json::object info = [] {
    json::object h;
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    h["machineName"] = name;
    std::string process = "comms";
    if (std::ifstream comm("/proc/self/comm"); comm) std::getline(comm, process);
    h["processName"] = process;
    h["processId"] = static_cast<std::int64_t>(getpid());
    h["assembly"] = "IntelliFin.Communications";
    h["assemblyVersion"] = "0.1.0";
    h["frameworkVersion"] = "C++" + std::to_string(__cplusplus / 100 % 100) + " Boost " BOOST_LIB_VERSION;
    h["massTransitVersion"] = nullptr;
    utsname u{};
    h["operatingSystemVersion"] = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "Linux";
    return h;
  }();
  return info;
}

}  // namespace comms::bus
