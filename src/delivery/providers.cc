#include "delivery/providers.h"

#include "common/log.h"
#include "common/metrics.h"
#include "delivery/devinbox/devinbox_channel.h"
#include "delivery/email/smtp/smtp_provider.h"
#include "delivery/resilience/provider_router.h"
#include "delivery/sms/africastalking/at_provider.h"
#include "delivery/sms/kannel/kannel_provider.h"

namespace comms::delivery {
namespace {

// Credentials in a URL would show in `comms config` and error messages: they have their own keys.
void check_url(const std::string& url, const char* key, const char* credential_keys) {
  const auto scheme = url.find("://");
  const auto authority = url.substr(scheme == std::string::npos ? 0 : scheme + 3);
  if (authority.substr(0, authority.find('/')).find('@') != std::string::npos)
    throw std::invalid_argument(std::string(key) + ": put credentials in " + credential_keys +
                                ", not in the URL");
}

void check(const ProvidersOptions& o) {
  if (o.timeout.count() < 1) throw std::invalid_argument("COMMS_PROVIDER_TIMEOUT_MS: must be at least 1");
  if (o.breaker_failures < 1) throw std::invalid_argument("COMMS_BREAKER_FAILURES: must be at least 1");
  const auto& at = o.africastalking;
  if (at.username.empty() != at.api_key.empty())
    throw std::invalid_argument("COMMS_AT_USERNAME and COMMS_AT_API_KEY: set both or neither");
  if (at.configured() && !at.base_url.starts_with("http://") && !at.base_url.starts_with("https://"))
    throw std::invalid_argument("COMMS_AT_BASE_URL: expected an http:// or https:// URL");
  const auto& k = o.kannel;
  if (k.configured() && !k.url.starts_with("http://") && !k.url.starts_with("https://"))
    throw std::invalid_argument("COMMS_KANNEL_URL: expected an http:// or https:// URL");
  check_url(at.base_url, "COMMS_AT_BASE_URL", "COMMS_AT_USERNAME and COMMS_AT_API_KEY");
  check_url(k.url, "COMMS_KANNEL_URL", "COMMS_KANNEL_USERNAME and COMMS_KANNEL_PASSWORD");
  check_url(o.smtp.url, "COMMS_SMTP_URL", "COMMS_SMTP_USERNAME and COMMS_SMTP_PASSWORD");
  if (!k.dlr_url.empty() && k.callback_token.empty())
    throw std::invalid_argument("COMMS_KANNEL_CALLBACK_TOKEN: required when COMMS_KANNEL_DLR_URL is set");
}

ProviderRoute route(std::shared_ptr<Provider> p, domain::Channel channel, int priority,
                    const ProvidersOptions& o, metrics::Registry& registry, ProviderMonitor& monitor) {
  auto breaker = std::make_shared<CircuitBreaker>(o.breaker_failures, o.breaker_open);
  auto stats = std::make_shared<ProviderStats>(registry, p->name(), channel, priority, breaker);
  monitor.add(stats);
  return {std::move(p), std::move(breaker), std::move(stats)};
}

}  // namespace

void Providers::stop() const {
  for (const auto& p : providers) p->stop();
}

Providers build_providers(const ProvidersOptions& o, metrics::Registry& registry, store::Store& store) {
  check(o);
  Providers out;
  out.monitor = std::make_shared<ProviderMonitor>();
  const bool use_providers = o.dev_inbox != DevInboxMode::always;

  std::vector<ProviderRoute> sms;
  if (use_providers && o.africastalking.configured()) {
    sms.push_back(route(std::make_shared<AfricasTalkingProvider>(o.africastalking, o.timeout, &registry),
                        domain::Channel::sms, static_cast<int>(sms.size()) + 1, o, registry, *out.monitor));
  }
  if (use_providers && o.kannel.configured()) {
    sms.push_back(route(std::make_shared<KannelProvider>(o.kannel, o.timeout), domain::Channel::sms,
                        static_cast<int>(sms.size()) + 1, o, registry, *out.monitor));
  }
  std::vector<ProviderRoute> email;
  if (use_providers && o.smtp.configured()) {
    email.push_back(route(std::make_shared<SmtpProvider>(o.smtp, o.timeout), domain::Channel::email, 1, o,
                          registry, *out.monitor));
  }
  for (const auto* routes : {&sms, &email})
    for (const auto& r : *routes) out.providers.push_back(r.provider);
  if (!sms.empty())
    out.channels[domain::Channel::sms] = std::make_shared<ProviderRouter>(domain::Channel::sms, sms);
  if (!email.empty())
    out.channels[domain::Channel::email] = std::make_shared<ProviderRouter>(domain::Channel::email, email);

  if (o.dev_inbox != DevInboxMode::never) {
    std::shared_ptr<Channel> inbox;
    for (auto ch : {domain::Channel::sms, domain::Channel::email, domain::Channel::inapp}) {
      if (out.channels.count(ch)) continue;
      if (!inbox) inbox = std::make_shared<DevInboxChannel>();
      out.channels[ch] = inbox;
      out.dev_inbox_used = true;
    }
  }
  for (const auto& [ch, routes] :
       {std::pair{domain::Channel::sms, &sms}, std::pair{domain::Channel::email, &email}}) {
    std::string names;
    for (const auto& r : *routes) names += (names.empty() ? "" : ",") + r.provider->name();
    const bool inbox = !routes->empty() ? false : out.channels.count(ch) > 0;
    log::info("channel_configured", {{"channel", domain::to_string(ch)},
                                     {"providers", names.empty() ? (inbox ? "devinbox" : "none") : names}});
  }
  return out;
}

}  // namespace comms::delivery
