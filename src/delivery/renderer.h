// Turns a stored notification into the message a provider sends. The seam
// between the dispatcher and the template engine: a notification either carries
// literal subject/content, or names a template rendered at dispatch time.
// Implementations must be safe to call from many threads. render() is a
// coroutine because a template may have to be read from the cache or store;
// `n` and `recipient` must stay alive until it completes (co_await it at once).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "delivery/channel.h"
#include "domain/notification.h"

namespace comms::delivery {

struct RenderOutcome {
  bool ok = true;
  std::string error;  // why rendering failed (permanent: retrying will not help)
  Outgoing message;
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  // `recipient` may be null when the directory has no entry.
  virtual boost::asio::awaitable<RenderOutcome> render(const domain::Notification& n,
                                                       const domain::Recipient* recipient) = 0;
};

// Literal content only: subject/content as stored. Resolves the address from
// n.to, else the recipient's phone (sms) or email (email); in-app targets the
// recipient id.
class LiteralRenderer : public Renderer {
 public:
  boost::asio::awaitable<RenderOutcome> render(const domain::Notification& n,
                                               const domain::Recipient* recipient) override;
};

// The message without subject, text or html: ids, channel, category and the
// address (resolve_address). Fails when there is no address.
RenderOutcome envelope(const domain::Notification& n, const domain::Recipient* recipient);

// LiteralRenderer's result, without suspending: the message as stored, or a
// failure when there is no address, or no content and a template name.
RenderOutcome render_literal(const domain::Notification& n, const domain::Recipient* recipient);

// The address rule above, shared by every renderer. Empty when there is none.
std::string resolve_address(const domain::Notification& n, const domain::Recipient* recipient);

}  // namespace comms::delivery
