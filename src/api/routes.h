// Registers every API route on the router, each with its access rule.
#pragma once
#include "api/context.h"
#include "http/router.h"

namespace comms::api {

// Context must outlive the router.
void register_routes(http::Router& router, Context& ctx);

// Per-area registration, used by register_routes.
void register_notification_routes(http::Router& router, Context& ctx);
void register_recipient_routes(http::Router& router, Context& ctx);
void register_ops_routes(http::Router& router, Context& ctx);
// The admin template API (templates_api.cc) and its preview (template_preview_api.cc).
void register_template_routes(http::Router& router, Context& ctx);
void register_template_preview_route(http::Router& router, Context& ctx);

}  // namespace comms::api
