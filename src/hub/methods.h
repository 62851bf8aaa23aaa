// Internal to hub/: the hub methods clients invoke.
//
//   MarkRead(notificationId)   marks the caller's in-app notification read; Completion without a
//                              result, or with error "Notification '<id>' was not found." (also for
//                              another user's notification)
//   GetUnread()                Completion result: the caller's unread in-app notifications, newest
//                              first, at most kUnreadLimit (hub/inbox.h), each as hub/inapp_view.h
//
// Method names match case-insensitively, as in ASP.NET Core. Anything else gets a Completion error.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "hub/protocol.h"

namespace comms::hub {

class HubCore;

// Runs one Invocation for `user`. Returns the Completion record to send, or "" for a non-blocking
// invocation (no invocationId). Never throws: store failures become a Completion error.
boost::asio::awaitable<std::string> run_invocation(std::shared_ptr<HubCore> core, std::string user,
                                                   Message m);

}  // namespace comms::hub
