// Routes of the event intake (issue 4): POST /api/v1/events,
// GET/PUT /api/v1/recipients/{id}/preferences and GET /api/v1/workflows/{correlationId}.
// Registered by app/ beside register_routes(); `ctx` and `intake` must outlive the router.
#pragma once
#include "api/context.h"
#include "http/router.h"

namespace comms::intake {
class Intake;
}

namespace comms::api {

// All three below.
void register_intake_routes(http::Router& router, Context& ctx, intake::Intake& intake);

void register_event_routes(http::Router& router, Context& ctx, intake::Intake& intake);
void register_preference_routes(http::Router& router, Context& ctx, intake::Intake& intake);
void register_workflow_routes(http::Router& router, Context& ctx);

}  // namespace comms::api
