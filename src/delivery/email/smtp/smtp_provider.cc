#include "delivery/email/smtp/smtp_provider.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/clock.h"
#include "common/ids.h"
#include "delivery/email/smtp/mime.h"

namespace comms::delivery {
namespace {

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
  bool finished = false;  // the whole message was handed to libcurl
};

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t len = std::min(size * n, u->data.size() - u->offset);
  std::memcpy(buf, u->data.data() + u->offset, len);
  u->offset += len;
  if (len == 0) u->finished = true;
  return len;
}

bool is_auth_reply(long code) {
  return code == 530 || code == 534 || code == 535 || code == 538;
}

}  // namespace

SmtpProvider::SmtpProvider(SmtpOptions options, std::chrono::milliseconds timeout)
    : name_("smtp"),
      options_(std::move(options)),
      timeout_(timeout),
      from_address_(smtp::address_of(options_.from)),
      domain_(from_address_.substr(from_address_.find('@') + 1)),
      pool_(name_, std::max(1, options_.concurrency)) {
  if (!options_.url.starts_with("smtp://") && !options_.url.starts_with("smtps://"))
    throw std::invalid_argument("COMMS_SMTP_URL: expected smtp://host:port or smtps://host:port");
  if (!smtp::is_plain_address(from_address_))
    throw std::invalid_argument(
        "COMMS_SMTP_FROM: expected an address, e.g. IntelliFin <no-reply@example.com>");
}

boost::asio::awaitable<ProviderResult> SmtpProvider::send(const Outgoing& message) {
  return run_blocking(pool_, name_, timeout_, [this, &message](CURL* h) { return deliver(h, message); });
}

ProviderResult SmtpProvider::deliver(CURL* h, const Outgoing& message) {
  if (!smtp::is_plain_address(message.to))
    return ProviderResult::failed(Fault::rejected, name_, "invalid email address");
  smtp::Mail mail;
  mail.from = options_.from;
  mail.to = message.to;
  mail.reply_to = options_.reply_to;
  mail.subject = message.subject;
  mail.text = message.text;
  mail.html = message.html;
  mail.message_id = (message.notification_id.empty() ? new_uuid() : message.notification_id) + "@" + domain_;
  mail.notification_id = message.notification_id;
  mail.date = now_ms();
  const std::string body = smtp::build_message(mail, smtp::new_boundary());

  Upload upload{body};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long long>(timeout_.count(), 5000)));
  curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 25L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  switch (options_.starttls) {
    case StartTls::automatic:
      curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
      break;
    case StartTls::required:
      curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      break;
    case StartTls::off:
      curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
      break;
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const std::string mail_from = "<" + from_address_ + ">";
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + message.to + ">").c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));

  const CURLcode rc = curl_easy_perform(h);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(rcpt);

  if (rc == CURLE_OK) {
    SendResult ok = SendResult::ok_from(name_);
    ok.provider_message_id = mail.message_id;
    return ProviderResult::ok(std::move(ok));
  }
  std::string error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_LOGIN_DENIED || is_auth_reply(reply))
    return ProviderResult::failed(Fault::rejected, name_, "authentication failed: " + error, "smtp_auth");
  if (rc == CURLE_USE_SSL_FAILED)
    return ProviderResult::failed(Fault::rejected, name_, "STARTTLS required but unavailable: " + error,
                                  "smtp_starttls");
  if (reply >= 500 && reply < 600) return ProviderResult::failed(Fault::rejected, name_, error);
  if (reply >= 400 && reply < 500) return ProviderResult::failed(Fault::unavailable, name_, error);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
    return ProviderResult::failed(Fault::unavailable, name_, "TLS verification failed: " + error, "smtp_tls");
  if (upload.finished)
    return ProviderResult::failed(Fault::ambiguous, name_, "no reply after the message: " + error);
  return ProviderResult::failed(Fault::unavailable, name_, "not sent: " + error);
}

}  // namespace comms::delivery
