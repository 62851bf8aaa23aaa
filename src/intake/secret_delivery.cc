#include "intake/secret_delivery.h"

#include <boost/json.hpp>

#include "delivery/devinbox/devinbox_channel.h"

namespace comms::intake {

void SecretVault::put(const std::string& notification_id, delivery::Outgoing clear) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.at > ttl_; });
  entries_[notification_id] = Entry{std::move(clear), now};
}

std::optional<delivery::Outgoing> SecretVault::take(const std::string& notification_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(notification_id);
  if (it == entries_.end()) return std::nullopt;
  auto out = std::move(it->second.message);
  entries_.erase(it);
  return out;
}

std::size_t SecretVault::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

boost::asio::awaitable<delivery::RenderOutcome> SealedRenderer::render(const domain::Notification& n,
                                                                      const domain::Recipient* recipient) {
  if (!contains_token(n.personalization)) co_return co_await inner_.render(n, recipient);
  auto masked_json = reveal_json(n.personalization, sealer_, Reveal::masked);
  auto clear_json = reveal_json(n.personalization, sealer_, Reveal::clear);
  if (!masked_json || !clear_json) {
    delivery::RenderOutcome failed;
    failed.ok = false;
    failed.error =
        sealer_.ephemeral()
            ? "a secret in this notification was sealed before a restart; without COMMS_SECRETS_KEY "
              "it cannot be opened, so the event must be sent again"
            : "a secret in this notification cannot be opened with COMMS_SECRETS_KEY";
    co_return failed;
  }
  domain::Notification masked = n;
  masked.personalization = std::move(*masked_json);
  domain::Notification clear = n;
  clear.personalization = std::move(*clear_json);
  // The stored fallback text was rendered masked at intake; render it again in clear.
  if (const auto* rule = rules_.find_template(n.template_category, n.template_name)) {
    const auto ctx = boost::json::parse(clear.personalization);
    const templates::RenderOptions opts{.escape = templates::Escape::none};
    if (rule->fallback_content && !n.content.empty()) {
      clear.content.clear();
      (void)templates::render(*rule->fallback_content, ctx, opts, clear.content);
    }
    if (rule->fallback_subject && !n.subject.empty()) {
      clear.subject.clear();
      (void)templates::render(*rule->fallback_subject, ctx, opts, clear.subject);
    }
  }
  auto stored = co_await inner_.render(masked, recipient);
  if (!stored.ok) co_return stored;
  auto sent = co_await inner_.render(clear, recipient);
  if (!sent.ok) co_return sent;
  vault_->put(n.id, std::move(sent.message));
  co_return stored;
}

boost::asio::awaitable<delivery::SendResult> RevealingChannel::send(const delivery::Outgoing& message) {
  if (auto clear = vault_->take(message.notification_id)) co_return co_await inner_->send(*clear);
  co_return co_await inner_->send(message);
}

void reveal_secrets_on_send(delivery::Channels& channels, const std::shared_ptr<SecretVault>& vault) {
  for (auto& [kind, channel] : channels) {
    if (!channel || dynamic_cast<delivery::DevInboxChannel*>(channel.get())) continue;
    channel = std::make_shared<RevealingChannel>(channel, vault);
  }
}

}  // namespace comms::intake
