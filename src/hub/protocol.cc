#include "hub/protocol.h"

#include <boost/json.hpp>

namespace comms::hub {
namespace {

namespace json = boost::json;

std::string record(const json::object& o) {
  std::string s = json::serialize(o);
  s += kRecordSeparator;
  return s;
}

// A JSON object, or nullptr for anything else (malformed JSON included).
json::object* as_object(json::value& v) {
  return v.is_object() ? &v.as_object() : nullptr;
}

bool parse_object(std::string_view text, json::value& out) {
  boost::system::error_code ec;
  out = json::parse(text, ec);
  return !ec && out.is_object();
}

}  // namespace

bool RecordReader::append(std::string_view bytes) {
  if (pos_ == buf_.size()) {
    // Nothing pending: give the memory back, so an idle connection holds none.
    std::string().swap(buf_);
    pos_ = partial_ = 0;
  } else if (pos_ > 0) {
    buf_.erase(0, pos_);
    partial_ -= pos_;
    pos_ = 0;
  }
  const std::size_t before = buf_.size();
  buf_.append(bytes);
  if (const std::size_t last = bytes.rfind(kRecordSeparator); last != std::string_view::npos)
    partial_ = before + last + 1;
  return buf_.size() - partial_ <= max_record_;
}

RecordReader::Next RecordReader::next(std::string_view& out) {
  const std::size_t end = buf_.find(kRecordSeparator, pos_);
  if (end == std::string::npos) return Next::none;
  out = std::string_view(buf_).substr(pos_, end - pos_);
  pos_ = end + 1;
  return out.size() > max_record_ ? Next::too_large : Next::record;
}

Handshake parse_handshake(std::string_view text) {
  Handshake h;
  json::value v;
  if (!parse_object(text, v)) {
    h.error = "The handshake request is not a JSON object.";
    return h;
  }
  const json::object& o = v.as_object();
  const json::value* protocol = o.if_contains("protocol");
  const json::value* version = o.if_contains("version");
  if (!protocol || !protocol->is_string() || !version || !version->is_number()) {
    h.error = "The handshake request needs a string 'protocol' and an integer 'version'.";
    return h;
  }
  if (protocol->as_string() != "json") {
    h.error = "The protocol '" + std::string(protocol->as_string()) + "' is not supported.";
    return h;
  }
  boost::system::error_code ec;
  const auto n = version->to_number<std::int64_t>(ec);
  if (ec || (n != 1 && n != 2)) {
    h.error = "The server does not support version " + json::serialize(*version) + " of the 'json' protocol.";
    return h;
  }
  h.ok = true;
  h.version = static_cast<int>(n);
  return h;
}

bool parse_message(std::string_view text, Message& out, std::string& error) {
  json::value v;
  if (!parse_object(text, v)) {
    error = "the message is not a JSON object";
    return false;
  }
  json::object& o = v.as_object();
  const json::value* type = o.if_contains("type");
  boost::system::error_code ec;
  const auto t = type && type->is_number() ? type->to_number<std::int64_t>(ec) : 0;
  if (!type || !type->is_number() || ec || t < 0 || t > 1'000'000) {
    error = "the message has no integer 'type'";
    return false;
  }
  out = Message{};
  out.type = static_cast<int>(t);
  if (out.type != static_cast<int>(MessageType::invocation) &&
      out.type != static_cast<int>(MessageType::stream_invocation))
    return true;

  if (const json::value* id = o.if_contains("invocationId"); id && !id->is_null()) {
    if (!id->is_string() || id->as_string().size() > kMaxInvocationId || id->as_string().empty()) {
      error = "'invocationId' must be a string of 1 to 128 bytes";
      return false;
    }
    out.invocation_id = std::string(id->as_string());
  }
  const json::value* target = o.if_contains("target");
  json::value* arguments = o.if_contains("arguments");
  if (!target || !target->is_string() || target->as_string().empty()) {
    error = "an invocation needs a string 'target'";
    return false;
  }
  if (!arguments || !arguments->is_array()) {
    error = "an invocation needs an array 'arguments'";
    return false;
  }
  out.target = std::string(target->as_string());
  out.arguments = std::move(arguments->as_array());
  if (const json::value* s = o.if_contains("streamIds"); s && s->is_array() && !s->as_array().empty())
    out.streams = true;
  return true;
}

std::string handshake_ok() {
  return std::string("{}") + kRecordSeparator;
}

std::string handshake_error(std::string_view error) {
  return record({{"error", error}});
}

std::string ping_record() {
  return std::string(R"({"type":6})") + kRecordSeparator;
}

std::string close_record(std::string_view error, bool allow_reconnect) {
  json::object o{{"type", 7}};
  if (!error.empty()) o["error"] = error;
  if (allow_reconnect) o["allowReconnect"] = true;
  return record(o);
}

std::string completion_record(std::string_view invocation_id) {
  return record({{"type", 3}, {"invocationId", invocation_id}});
}

std::string completion_record(std::string_view invocation_id, const json::value& result) {
  return record({{"type", 3}, {"invocationId", invocation_id}, {"result", result}});
}

std::string completion_error(std::string_view invocation_id, std::string_view error) {
  return record({{"type", 3}, {"invocationId", invocation_id}, {"error", error}});
}

std::string invocation_record(std::string_view target, json::array arguments) {
  return record({{"type", 1}, {"target", target}, {"arguments", std::move(arguments)}});
}

}  // namespace comms::hub
