// Hub groups: who a connection listens as, and where a notification goes.
//
//   user:{sub}       every connection of the user whose token has this subject
//   role:{role}      staff, service and admin connections, by their role ("role:staff")
//   branch:{id}      staff, service and admin connections whose token carries this branch claim
//
// Customers join only their user group, so a notification addressed to a person reaches only that
// person's connections. A recipient id "branch:{id}" or "role:{role}" addresses that group; any
// other recipient id is a user id. Pure functions; thread-safe.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace comms::hub {

std::string user_group(std::string_view sub);
// The groups a connection of `p` joins (its user group first). Empty for an unauthenticated principal.
std::vector<std::string> groups_of(const http::Principal& p);
// The group a notification for `recipient_id` is sent to.
std::string group_for_recipient(std::string_view recipient_id);

}  // namespace comms::hub
