// Internet message building for email notifications (RFC 5322 + MIME): a
// multipart/alternative message with a text/plain and a text/html part (or a
// single text/plain part), UTF-8 bodies in quoted-printable, and non-ASCII
// header text as RFC 2047 encoded words. Pure functions.
//
// Built here rather than with curl_mime: curl_mime cannot render a message
// without sending it (so its output cannot be unit-tested), and leaves RFC
// 2047 header encoding, folding and Message-ID/Date to the caller anyway.
#pragma once
#include <string>
#include <string_view>

#include "common/clock.h"

namespace comms::delivery::smtp {

struct Mail {
  std::string from;             // "Display Name <addr@example.com>" or "addr@example.com"
  std::string to;               // addr-spec
  std::string reply_to;         // optional, same forms as from
  std::string subject;          // UTF-8
  std::string text;             // UTF-8
  std::string html;             // UTF-8; empty = a single text/plain part
  std::string message_id;       // "local@domain", without angle brackets
  std::string notification_id;  // X-Notification-Id, for tracing
  Millis date = 0;
};

// The whole message with CRLF line endings; no line is longer than 78 characters.
// `boundary` must not occur in the bodies: boundaries starting with "=_" never occur in
// quoted-printable text.
std::string build_message(const Mail& mail, std::string_view boundary);

// A fresh boundary ("=_comms_" and 24 random hex digits).
std::string new_boundary();

// Subject-style unstructured header value: ASCII kept as is (folded at spaces), otherwise RFC 2047
// "B" encoded words of whole UTF-8 characters, each at most 64 characters, folded with CRLF SP.
// `name_length` is the length of "Name: " that precedes it on the first line. CR and LF become spaces.
std::string encode_unstructured(std::string_view utf8, std::size_t name_length);

// "Name <addr>" with the display name quoted or RFC 2047-encoded as needed; a bare address as is.
std::string encode_address(std::string_view mailbox);

// The addr-spec inside a mailbox ("a@b" from "Name <a@b>").
std::string address_of(std::string_view mailbox);

// Quoted-printable (RFC 2045) with CRLF line breaks and lines of at most 76 characters; a leading
// '.' is encoded so that no line ever starts with one.
std::string quoted_printable(std::string_view text);

// RFC 5322 date-time in UTC, e.g. "Fri, 27 Nov 2026 04:26:45 +0000".
std::string rfc5322_date(Millis ms);

// A header-safe address: printable ASCII, one '@', no spaces, angle brackets or commas.
bool is_plain_address(std::string_view addr);

}  // namespace comms::delivery::smtp
