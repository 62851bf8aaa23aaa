// Delivering notifications that carry sealed secrets (OTP codes, reset
// tokens) without the clear text ever reaching the database or the logs.
//
//   dispatcher --render--> SealedRenderer --(masked message)--> stored as the
//                              |                                 notification's
//                              | clear message, in memory         subject/content
//                              v
//                          SecretVault --take--> RevealingChannel --> provider
//
// SealedRenderer renders such a notification twice through the real
// renderer: with the secrets masked (what the dispatcher stores and history
// shows) and in clear (kept in the SecretVault, in memory, keyed by
// notification id). RevealingChannel, wrapped around each real provider
// channel, swaps the clear message in just before the provider call. The dev
// inbox is not wrapped: it is a table in the database, so it captures the
// masked text. Notifications without secrets pass straight through both.
//
// Thread-safety: all three are safe to use from many coroutines at once.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "delivery/channel.h"
#include "delivery/renderer.h"
#include "intake/rules.h"
#include "intake/secrets.h"

namespace comms::intake {

// Clear messages between rendering and sending. Entries nobody takes (the
// channel was the dev inbox, or the send never happened) expire after `ttl`.
class SecretVault {
 public:
  explicit SecretVault(std::chrono::milliseconds ttl = std::chrono::minutes(5)) : ttl_(ttl) {}
  void put(const std::string& notification_id, delivery::Outgoing clear);
  std::optional<delivery::Outgoing> take(const std::string& notification_id);
  std::size_t size() const;

 private:
  struct Entry {
    delivery::Outgoing message;
    std::chrono::steady_clock::time_point at;
  };
  const std::chrono::milliseconds ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

class SealedRenderer final : public delivery::Renderer {
 public:
  // `inner`, `sealer` and `rules` must outlive this renderer.
  SealedRenderer(delivery::Renderer& inner, const Sealer& sealer, const Rules& rules,
                 std::shared_ptr<SecretVault> vault)
      : inner_(inner), sealer_(sealer), rules_(rules), vault_(std::move(vault)) {}
  boost::asio::awaitable<delivery::RenderOutcome> render(const domain::Notification& n,
                                                         const domain::Recipient* recipient) override;

 private:
  delivery::Renderer& inner_;
  const Sealer& sealer_;
  const Rules& rules_;
  std::shared_ptr<SecretVault> vault_;
};

class RevealingChannel final : public delivery::Channel {
 public:
  RevealingChannel(std::shared_ptr<delivery::Channel> inner, std::shared_ptr<SecretVault> vault)
      : inner_(std::move(inner)), vault_(std::move(vault)) {}
  boost::asio::awaitable<delivery::SendResult> send(const delivery::Outgoing& message) override;

 private:
  std::shared_ptr<delivery::Channel> inner_;
  std::shared_ptr<SecretVault> vault_;
};

// Wraps every channel in `channels` in a RevealingChannel, except the dev inbox.
void reveal_secrets_on_send(delivery::Channels& channels, const std::shared_ptr<SecretVault>& vault);

}  // namespace comms::intake
