// The SignalR JSON hub protocol (aspnetcore specs HubProtocol.md): record framing, the handshake,
// and the messages this hub reads and writes. Values and pure functions, no I/O.
// Thread-compatible: a RecordReader belongs to one connection.
//
// What the hub understands: Invocation (1), StreamInvocation (4, answered with a Completion error:
// no hub method streams), Ping (6) and Close (7). StreamItem (2), Completion (3), CancelInvocation
// (5), Ack (8), Sequence (9) and unknown types are parsed and ignored: the hub never invokes client
// methods that return results and never offers stateful reconnect.
#pragma once
#include <boost/json/array.hpp>
#include <boost/json/fwd.hpp>
#include <cstddef>
#include <string>
#include <string_view>

namespace comms::hub {

inline constexpr char kRecordSeparator = '\x1e';

// Splits a byte stream into records terminated by 0x1E. Bytes may arrive in any pieces: a record
// may span several WebSocket frames or messages, and one piece may hold several records. Holds no
// heap memory while no partial record is pending (an idle connection costs sizeof(RecordReader)).
class RecordReader {
 public:
  explicit RecordReader(std::size_t max_record) : max_record_(max_record) {}

  // Appends received bytes. False when an unterminated record already exceeds the limit (the
  // connection should be closed); the reader is then unusable.
  bool append(std::string_view bytes);

  enum class Next { record, none, too_large };
  // The next complete record without its separator. `out` stays valid until the next call to
  // next() or append(). too_large: a record longer than the limit (close the connection).
  Next next(std::string_view& out);

  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;      // the first unread byte in buf_
  std::size_t partial_ = 0;  // where the unterminated record begins (after the last separator)
  std::size_t max_record_;
};

// The handshake request, the connection's first record: {"protocol":"json","version":N}.
struct Handshake {
  bool ok = false;
  int version = 0;
  std::string error;  // when !ok: the text for {"error": ...}
};
// Accepts protocol "json" with version 1 or 2 (2 differs only by the stateful-reconnect messages,
// which this hub never negotiates).
Handshake parse_handshake(std::string_view record);

enum class MessageType {
  invocation = 1,
  stream_item = 2,
  completion = 3,
  stream_invocation = 4,
  cancel_invocation = 5,
  ping = 6,
  close = 7,
  ack = 8,
  sequence = 9,
};

struct Message {
  int type = 0;                  // a MessageType value, or any other integer (ignored)
  std::string invocation_id;     // empty: a non-blocking invocation
  std::string target;            // invocations
  boost::json::array arguments;  // invocations
  bool streams = false;          // the invocation names client-to-server streams (streamIds)
};

inline constexpr std::size_t kMaxInvocationId = 128;

// Parses one record after the handshake. False with `error` set on a protocol error: not a JSON
// object, no integer "type", or an invocation without a string "target" and an array "arguments",
// or with an invocationId that is not a string of at most kMaxInvocationId bytes.
bool parse_message(std::string_view record, Message& out, std::string& error);

// Records the hub writes, each terminated by 0x1E.
std::string handshake_ok();
std::string handshake_error(std::string_view error);
std::string ping_record();
// {"type":7} with "error" when not empty and "allowReconnect" when true.
std::string close_record(std::string_view error, bool allow_reconnect);
// A Completion without a result (a void method), with a result, or with an error.
std::string completion_record(std::string_view invocation_id);
std::string completion_record(std::string_view invocation_id, const boost::json::value& result);
std::string completion_error(std::string_view invocation_id, std::string_view error);
// A non-blocking Invocation of a client method (no invocationId).
std::string invocation_record(std::string_view target, boost::json::array arguments);

}  // namespace comms::hub
