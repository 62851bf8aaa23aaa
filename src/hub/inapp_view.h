// The JSON shape of an in-app notification, as ReceiveNotification, GetUnread and GET /api/v1/inbox
// show it (camelCase, ISO-8601 UTC times, null for absent values):
//   {id, recipientId, category, subject, content, createdAt, readAt, correlationId}
#pragma once
#include <boost/json/object.hpp>

#include "domain/notification.h"

namespace comms::hub {

boost::json::object inapp_view(const domain::Notification& n);

}  // namespace comms::hub
