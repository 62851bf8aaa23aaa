// Turns a stored notification into the message a provider sends. The seam
// between the dispatcher and the template engine: a notification either carries
// literal subject/content, or names a template rendered at dispatch time.
// Implementations must be safe to call from many threads.
#pragma once
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
  virtual RenderOutcome render(const domain::Notification& n, const domain::Recipient* recipient) = 0;
};

// Literal content only: subject/content as stored. Resolves the address from
// n.to, else the recipient's phone (sms) or email (email); in-app targets the
// recipient id.
class LiteralRenderer : public Renderer {
 public:
  RenderOutcome render(const domain::Notification& n, const domain::Recipient* recipient) override;
};

// The address rule above, shared by every renderer. Empty when there is none.
std::string resolve_address(const domain::Notification& n, const domain::Recipient* recipient);

}  // namespace comms::delivery
