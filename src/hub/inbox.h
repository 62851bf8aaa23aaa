// The in-app inbox operations shared by the hub's methods (MarkRead, GetUnread) and the inbox API,
// run inside a store unit of work. A user's inbox holds the in-app notifications addressed to the
// user's own id; group notifications (branch:, role:) are pushed live only.
#pragma once
#include <string>

#include "store/store.h"

namespace comms::hub {

enum class MarkRead { marked, already_read, not_found, not_owner };

// Marks notification `id` read for `user` at `now`. not_found also covers a notification of another
// channel; the hub reports not_owner as not_found so that ids of others stay unconfirmed.
MarkRead mark_read(store::UnitOfWork& uow, const std::string& user, const std::string& id, Millis now);

// GetUnread returns at most this many notifications, newest first; the inbox API pages further.
inline constexpr int kUnreadLimit = 100;

store::InboxPage unread(store::UnitOfWork& uow, const std::string& user);

}  // namespace comms::hub
