#include "delivery/resilience/http_call.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace comms::delivery {
namespace {

constexpr std::size_t kMaxReply = 4 << 20;

struct Progress {
  HttpReply* reply;
  int prereq_calls = 0;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<HttpReply*>(user);
  if (reply->body.size() + size * n > kMaxReply) return 0;  // aborts with CURLE_WRITE_ERROR
  reply->body.append(data, size * n);
  return size * n;
}

int on_prereq(void* user, char*, char*, int, int) {
  auto* p = static_cast<Progress*>(user);
  if (++p->prereq_calls > 1) {
    p->reply->resend_refused = true;
    return CURL_PREREQFUNC_ABORT;
  }
  p->reply->request_sent = true;
  return CURL_PREREQFUNC_OK;
}

}  // namespace

std::string form_encode(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3 / 2);
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpReply perform(CURL* h, const HttpCall& call) {
  HttpReply reply;
  Progress progress{&reply};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(call.connect_timeout, call.timeout).count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // Reuse a connection only while the server surely still keeps it (servers commonly close idle
  // keep-alive connections after 60 s); a dead reused connection makes a send ambiguous.
  curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 25L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, &on_prereq);
  curl_easy_setopt(h, CURLOPT_PREREQDATA, &progress);
  if (call.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_slist* headers = nullptr;
  for (const auto& line : call.headers) headers = curl_slist_append(headers, line.c_str());
  // libcurl would otherwise add "Expect: 100-continue" to larger POSTs and wait for it.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  reply.code = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  if (const char* ct = nullptr; curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
    reply.content_type = ct;
  reply.completed = reply.code == CURLE_OK && reply.status > 0;
  if (reply.code != CURLE_OK) {
    reply.error = errbuf[0] ? errbuf : curl_easy_strerror(reply.code);
    if (reply.resend_refused)
      reply.error = "connection lost after sending; re-send refused (" + reply.error + ")";
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  return reply;
}

Fault transport_fault(const HttpReply& reply) {
  return reply.request_sent ? Fault::ambiguous : Fault::unavailable;
}

std::string transport_error(const HttpReply& reply) {
  return (reply.request_sent ? "no reply after sending: " : "not sent: ") + reply.error;
}

}  // namespace comms::delivery
