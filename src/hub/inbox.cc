#include "hub/inbox.h"

namespace comms::hub {

MarkRead mark_read(store::UnitOfWork& uow, const std::string& user, const std::string& id, Millis now) {
  const auto n = uow.notifications().get(id);
  if (!n || n->channel != domain::Channel::inapp) return MarkRead::not_found;
  if (n->recipient_id != user) return MarkRead::not_owner;
  return uow.notifications().mark_read(id, now) ? MarkRead::marked : MarkRead::already_read;
}

store::InboxPage unread(store::UnitOfWork& uow, const std::string& user) {
  store::InboxQuery q;
  q.recipient_id = user;
  q.unread_only = true;
  q.page_size = kUnreadLimit;
  return uow.notifications().inbox(q);
}

}  // namespace comms::hub
