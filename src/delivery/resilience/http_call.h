// One HTTP exchange with a provider over a worker's kept-alive libcurl handle,
// reporting exactly how far it got, so that a failure can be classified as
// "nothing was sent" (safe to retry anywhere) or "sent, no answer" (ambiguous).
//
// libcurl silently re-sends a request on a fresh connection when a reused
// connection turns out dead before any reply byte. If that first connection
// had in fact delivered the request, the re-send is a duplicate. perform()
// refuses such re-sends (a pre-request callback aborts the second attempt) and
// reports the exchange as ambiguous instead.
//
// Thread-safety: a handle is used by one thread at a time (its bulkhead worker).
#pragma once
#include <curl/curl.h>

#include <chrono>
#include <string>
#include <vector>

#include "delivery/resilience/provider.h"

namespace comms::delivery {

struct HttpCall {
  std::string method = "POST";  // POST or GET
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST only
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds connect_timeout{3000};
};

struct HttpReply {
  bool completed = false;     // a whole HTTP response arrived
  bool request_sent = false;  // the request left for the server (it may have been processed)
  bool resend_refused = false;
  long status = 0;
  std::string body;
  std::string content_type;
  CURLcode code = CURLE_OK;
  std::string error;  // libcurl's message (never contains the URL or credentials)
};

// application/x-www-form-urlencoded encoding of one value (RFC 3986 unreserved characters and '*' kept,
// space as '+'), for form bodies and query strings alike.
std::string form_encode(std::string_view value);

// Blocking; runs on a bulkhead worker. Replaces every option previously set on
// `handle` but keeps its connection cache.
HttpReply perform(CURL* handle, const HttpCall& call);

// The Fault of an exchange that did not complete: unavailable when nothing
// was sent, ambiguous otherwise.
Fault transport_fault(const HttpReply& reply);
// "connect failed: ..." / "no reply after sending: ..." for a failed exchange.
std::string transport_error(const HttpReply& reply);

}  // namespace comms::delivery
