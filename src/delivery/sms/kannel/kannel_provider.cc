#include "delivery/sms/kannel/kannel_provider.h"

#include "delivery/resilience/http_call.h"
#include "delivery/sms/kannel/kannel_protocol.h"

namespace comms::delivery {

KannelProvider::KannelProvider(KannelOptions options, std::chrono::milliseconds timeout)
    : name_(kannel::kProvider),
      options_(std::move(options)),
      timeout_(timeout),
      pool_(name_, std::max(1, options_.concurrency)) {}

boost::asio::awaitable<ProviderResult> KannelProvider::send(const Outgoing& message) {
  return run_blocking(pool_, name_, timeout_, [this, &message](CURL* h) { return deliver(h, message); });
}

ProviderResult KannelProvider::deliver(CURL* handle, const Outgoing& message) {
  kannel::SendSms s;
  s.base_url = options_.url;
  s.username = options_.username;
  s.password = options_.password;
  s.from = options_.from;
  s.to = message.to;
  s.text = message.text;
  if (!options_.dlr_url.empty())
    s.dlr_url = kannel::dlr_callback_url(options_.dlr_url, options_.callback_token, message.notification_id);
  HttpCall call;
  call.method = "GET";
  call.url = kannel::sendsms_url(s);
  call.timeout = timeout_;
  call.headers = {"User-Agent: intellifin-comms"};
  const HttpReply reply = perform(handle, call);
  if (!reply.completed) return ProviderResult::failed(transport_fault(reply), name_, transport_error(reply));
  ProviderResult r = kannel::classify_reply(reply.status, reply.body);
  if (r.fault == Fault::none) r.result.provider_message_id = message.notification_id;
  return r;
}

}  // namespace comms::delivery
