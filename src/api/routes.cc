#include "api/routes.h"

namespace comms::api {

void register_routes(http::Router& router, Context& ctx) {
  register_notification_routes(router, ctx);
  register_recipient_routes(router, ctx);
  register_ops_routes(router, ctx);
  register_template_routes(router, ctx);
}

}  // namespace comms::api
