// JSON renderings of domain values for API responses (camelCase, ISO-8601 times).
#pragma once
#include <boost/json/object.hpp>

#include "domain/notification.h"
#include "store/store.h"

namespace comms::api {

boost::json::object to_json(const domain::Notification& n);
boost::json::object to_json(const domain::Recipient& r);
boost::json::object to_json(const store::DevMessage& m);

}  // namespace comms::api
