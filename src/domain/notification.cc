#include "domain/notification.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace comms::domain {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::pair<Status, std::string_view>, 6> kStatusNames{{
    {Status::pending, "Pending"},
    {Status::sending, "Sending"},
    {Status::sent, "Sent"},
    {Status::delivered, "Delivered"},
    {Status::failed, "Failed"},
    {Status::cancelled, "Cancelled"},
}};

}  // namespace

std::string_view to_string(Channel c) {
  switch (c) {
    case Channel::sms: return "sms";
    case Channel::email: return "email";
    case Channel::inapp: return "inapp";
  }
  return "sms";
}

std::optional<Channel> parse_channel(std::string_view s) {
  if (s == "sms") return Channel::sms;
  if (s == "email") return Channel::email;
  if (s == "inapp") return Channel::inapp;
  return std::nullopt;
}

std::string_view to_string(Status s) {
  for (const auto& [st, name] : kStatusNames)
    if (st == s) return name;
  return "Pending";
}

std::optional<Status> parse_status(std::string_view s) {
  for (const auto& [st, name] : kStatusNames)
    if (iequals(name, s)) return st;
  return std::nullopt;
}

bool is_terminal(Status s) {
  return s == Status::delivered || s == Status::failed || s == Status::cancelled;
}

bool can_transition(Status from, Status to) {
  switch (from) {
    case Status::pending:
      return to == Status::sending || to == Status::cancelled || to == Status::failed;
    case Status::sending:
      return to == Status::sent || to == Status::pending || to == Status::failed || to == Status::delivered;
    case Status::sent:
      return to == Status::delivered || to == Status::failed;
    case Status::failed:
      return to == Status::pending;
    case Status::delivered:
    case Status::cancelled:
      return false;
  }
  return false;
}

}  // namespace comms::domain
