// Routes of the in-app inbox and the SignalR hub (issue 6; docs/hub.md). Registered by app/ beside
// register_routes().
//
//   POST /hubs/notifications/negotiate?negotiateVersion=1   any role; the SignalR negotiate answer
//                                                            (the hub's path() + /negotiate)
//   GET  /api/v1/inbox?page=&pageSize=&unread=true           the caller's in-app notifications, newest
//                                                            first, with unreadCount
//   POST /api/v1/inbox/{id}/read                             marks the caller's notification read
//
// Lifetime: `ctx` and `hub` must outlive the router.
#pragma once
#include "api/context.h"
#include "http/router.h"

namespace comms::hub {
class Hub;
}

namespace comms::api {

void register_hub_routes(http::Router& router, hub::Hub& hub);
void register_inbox_routes(http::Router& router, Context& ctx);

}  // namespace comms::api
