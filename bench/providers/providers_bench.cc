// Provider adapter throughput against local peers, each next to its reference measured in the
// same run (see run.sh, which starts the peers and prints the table):
//
//   sms-raw        the fake Africa's Talking server's own ceiling: C threads, each with one
//                  kept-alive libcurl handle, POSTing the same one-recipient form as fast as the
//                  server answers (no coroutines, no parsing, no batching)
//   sms-adapter    AfricasTalkingProvider with C connections, one distinct text per message
//                  (personalised: one recipient per request)
//   sms-bulk       AfricasTalkingProvider, one identical text for all (batched, up to batch_max)
//   smtp-raw       aiosmtpd's ceiling: C threads, each with one libcurl SMTP session, sending one
//                  prebuilt message again and again
//   smtp-adapter   SmtpProvider with C sessions (MIME building, coroutine hand-off included)
//
// Usage: bench_providers --at URL --user U --key K --smtp URL [--messages N] [--concurrency C]
//        [--inflight I] [--only NAME]
// Prints one line per scenario: name messages seconds msgs_per_s requests.
#include <curl/curl.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "delivery/email/smtp/mime.h"
#include "delivery/email/smtp/smtp_provider.h"
#include "delivery/sms/africastalking/at_protocol.h"
#include "delivery/sms/africastalking/at_provider.h"

namespace {

using namespace comms;
using namespace comms::delivery;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string at, user, key, smtp, only;
  int messages = 5000;
  int concurrency = 8;
  int inflight = 64;
};

struct Row {
  std::string name;
  int messages = 0;
  double seconds = 0;
  int failures = 0;
};

void print(const Row& r) {
  std::printf("%-13s %8d %8.3f %10.1f %6d\n", r.name.c_str(), r.messages, r.seconds, r.messages / r.seconds,
              r.failures);
  std::fflush(stdout);
}

std::string number(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+26097%07d", i % 10'000'000);
  return buf;
}

size_t discard(char*, size_t s, size_t n, void*) {
  return s * n;
}

// `fn(handle, i)` for i in [0, total) over `threads` threads, each with its own CURL handle.
template <class F>
Row raw(const std::string& name, int total, int threads, F fn) {
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      CURL* h = curl_easy_init();
      for (int i; (i = next.fetch_add(1)) < total;)
        if (!fn(h, i)) failures.fetch_add(1);
      curl_easy_cleanup(h);
    });
  }
  for (auto& t : pool) t.join();
  return {name, total, std::chrono::duration<double>(Clock::now() - start).count(), failures.load()};
}

Row sms_raw(const Args& a) {
  const std::string url = a.at + "/version1/messaging";
  const std::string api_key = "apiKey: " + a.key;
  return raw("sms-raw", a.messages, a.concurrency, [&](CURL* h, int i) {
    const std::string body =
        africastalking::messaging_form(a.user, {number(i)}, "Raw load " + std::to_string(i), "", false);
    curl_slist* headers = curl_slist_append(nullptr, api_key.c_str());
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard);
    const bool ok = curl_easy_perform(h) == CURLE_OK;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return ok && status == 201;
  });
}

// Sends `total` messages through `p`, at most `inflight` at a time, on a 2-thread io_context.
template <class Make>
Row through(const std::string& name, Provider& p, int total, int inflight, Make make) {
  boost::asio::io_context io;
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  for (int w = 0; w < inflight; ++w) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          for (int i; (i = next.fetch_add(1)) < total;) {
            const Outgoing m = make(i);
            const auto r = co_await p.send(m);
            if (r.fault != Fault::none) failures.fetch_add(1);
          }
        },
        boost::asio::detached);
  }
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  return {name, total, std::chrono::duration<double>(Clock::now() - start).count(), failures.load()};
}

AfricasTalkingOptions at_options(const Args& a) {
  AfricasTalkingOptions o;
  o.username = a.user;
  o.api_key = a.key;
  o.base_url = a.at;
  o.concurrency = a.concurrency;
  return o;
}

Row sms_adapter(const Args& a) {
  auto o = at_options(a);
  o.batch_window = std::chrono::milliseconds(0);
  AfricasTalkingProvider p(o, std::chrono::milliseconds(10000), nullptr);
  return through("sms-adapter", p, a.messages, a.inflight, [](int i) {
    Outgoing m;
    m.notification_id = "n" + std::to_string(i);
    m.to = number(i + 5'000'000);
    m.text = "Personal " + std::to_string(i);
    return m;
  });
}

Row sms_bulk(const Args& a) {
  AfricasTalkingProvider p(at_options(a), std::chrono::milliseconds(10000), nullptr);
  return through("sms-bulk", p, a.messages, std::max(a.inflight, 256), [](int i) {
    Outgoing m;
    m.notification_id = "b" + std::to_string(i);
    m.to = number(i + 8'000'000);
    m.text = "Branches close at 13:00 on Friday";
    return m;
  });
}

struct Upload {
  const std::string* data;
  std::size_t off = 0;
};

size_t read_upload(char* buf, size_t s, size_t n, void* u) {
  auto* up = static_cast<Upload*>(u);
  const std::size_t len = std::min(s * n, up->data->size() - up->off);
  std::memcpy(buf, up->data->data() + up->off, len);
  up->off += len;
  return len;
}

Row smtp_raw(const Args& a, int total) {
  smtp::Mail mail;
  mail.from = "IntelliFin <no-reply@intellifin.co.zm>";
  mail.to = "bench@example.com";
  mail.subject = "Statement";
  mail.text = "Your statement is ready.";
  mail.html = "<p>Your statement is <b>ready</b>.</p>";
  mail.message_id = "raw@intellifin.co.zm";
  const std::string body = smtp::build_message(mail, smtp::new_boundary());
  return raw("smtp-raw", total, a.concurrency, [&](CURL* h, int) {
    Upload up{&body};
    curl_slist* rcpt = curl_slist_append(nullptr, "<bench@example.com>");
    curl_easy_setopt(h, CURLOPT_URL, a.smtp.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, "<no-reply@intellifin.co.zm>");
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    const bool ok = curl_easy_perform(h) == CURLE_OK;
    curl_slist_free_all(rcpt);
    return ok;
  });
}

Row smtp_adapter(const Args& a, int total) {
  SmtpOptions o;
  o.url = a.smtp;
  o.from = "IntelliFin <no-reply@intellifin.co.zm>";
  o.concurrency = a.concurrency;
  o.starttls = StartTls::off;
  SmtpProvider p(o, std::chrono::milliseconds(10000));
  return through("smtp-adapter", p, total, a.inflight, [](int i) {
    Outgoing m;
    m.notification_id = "e" + std::to_string(i);
    m.channel = domain::Channel::email;
    m.to = "bench@example.com";
    m.subject = "Statement";
    m.text = "Your statement is ready.";
    m.html = "<p>Your statement is <b>ready</b>.</p>";
    return m;
  });
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--at")
      a.at = v;
    else if (k == "--user")
      a.user = v;
    else if (k == "--key")
      a.key = v;
    else if (k == "--smtp")
      a.smtp = v;
    else if (k == "--messages")
      a.messages = std::stoi(v);
    else if (k == "--concurrency")
      a.concurrency = std::stoi(v);
    else if (k == "--inflight")
      a.inflight = std::stoi(v);
    else if (k == "--only")
      a.only = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  log::init(log::Format::text, log::Level::error);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto want = [&](const char* name) { return a.only.empty() || a.only == name; };
  std::printf("%-13s %8s %8s %10s %6s\n", "scenario", "messages", "seconds", "msgs/s", "failed");
  if (!a.at.empty()) {
    if (want("sms-raw")) print(sms_raw(a));
    if (want("sms-adapter")) print(sms_adapter(a));
    if (want("sms-bulk")) print(sms_bulk(a));
  }
  if (!a.smtp.empty()) {
    const int emails = std::max(1, a.messages / 5);
    if (want("smtp-raw")) print(smtp_raw(a, emails));
    if (want("smtp-adapter")) print(smtp_adapter(a, emails));
  }
  return 0;
}
