#include "hub/groups.h"

namespace comms::hub {

std::string user_group(std::string_view sub) {
  return "user:" + std::string(sub);
}

std::vector<std::string> groups_of(const http::Principal& p) {
  if (!p.authenticated() || p.sub.empty()) return {};
  std::vector<std::string> out{user_group(p.sub)};
  if (p.role != http::Role::customer) {
    out.push_back("role:" + std::string(http::to_string(p.role)));
    if (!p.branch.empty()) out.push_back("branch:" + p.branch);
  }
  return out;
}

std::string group_for_recipient(std::string_view recipient_id) {
  if (recipient_id.starts_with("branch:") || recipient_id.starts_with("role:"))
    return std::string(recipient_id);
  return user_group(recipient_id);
}

}  // namespace comms::hub
