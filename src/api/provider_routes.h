// Routes of the delivery providers: the delivery-report callbacks that Africa's
// Talking and Kannel call (public routes, each authenticated by a secret token
// in its URL, compared in constant time) and the provider status page.
//
//   POST     /api/v1/callbacks/africastalking/delivery?token=T   form: id, status, phoneNumber,
//                                                                 networkCode, failureReason, retryCount
//   GET|POST /api/v1/callbacks/kannel/delivery?token=T&id=..&type=..&reply=..
//   GET      /api/v1/providers   (admin) breaker state, outcome counts, latency, cost, alerts
//
// Lifetime: Context (and the monitor) must outlive the router.
#pragma once
#include <memory>
#include <string>

#include "api/context.h"
#include "http/router.h"

namespace comms::delivery {
class ProviderMonitor;
}

namespace comms::api {

struct CallbackOptions {
  std::string africastalking_token;  // COMMS_AT_CALLBACK_TOKEN; empty = every report is refused (401)
  std::string kannel_token;          // COMMS_KANNEL_CALLBACK_TOKEN; empty = likewise
};

void register_callback_routes(http::Router& router, Context& ctx, CallbackOptions options);

// `monitor` may be null (no real providers configured): the page lists none.
void register_provider_routes(http::Router& router, std::shared_ptr<const delivery::ProviderMonitor> monitor);

}  // namespace comms::api
