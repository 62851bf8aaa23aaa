// JSON renderings of domain values for API responses (camelCase, ISO-8601 times).
#pragma once
#include <boost/json/object.hpp>

#include "domain/notification.h"
#include "store/store.h"

namespace comms::api {

boost::json::object to_json(const domain::Notification& n);
boost::json::object to_json(const domain::Recipient& r);
boost::json::object to_json(const store::DevMessage& m);
// A template: its key, description, versions and row version; with `content`, also the active
// version's subject, body, htmlBody, maxSegments and strict.
boost::json::object to_json(const store::TemplateRecord& t, bool content);
// One saved version; `active` tells whether it is the template's active one.
boost::json::object to_json(const store::TemplateVersion& v, bool active);

}  // namespace comms::api
