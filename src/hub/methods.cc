#include "hub/methods.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "hub/hub_core.h"
#include "hub/inapp_view.h"
#include "hub/inbox.h"
#include "store/await.h"
#include "store/store.h"

namespace comms::hub {
namespace {

using boost::asio::awaitable;

std::string server_error(std::string_view method) {
  return "Failed to invoke '" + std::string(method) + "' due to an error on the server.";
}

void log_failure(std::string_view method, const std::string& user, const std::exception& e) {
  log::error("hub_method_failed", {{"method", method}, {"user", user}, {"error", e.what()}});
}

// What a method produced: an error, or its result (nullopt: a void method).
struct Outcome {
  std::string error;
  std::optional<boost::json::value> result;
  static Outcome failed(std::string e) { return {std::move(e), std::nullopt}; }
};

awaitable<Outcome> mark_read_method(HubCore& core, const std::string& user, const boost::json::array& args) {
  if (args.size() != 1 || !args[0].is_string() || args[0].as_string().empty() ||
      args[0].as_string().size() > 128)
    co_return Outcome::failed("MarkRead expects one argument: the notification id.");
  const std::string id(args[0].as_string());
  MarkRead r = MarkRead::not_found;
  try {
    co_await store::write_async(core.store,
                                [&](store::UnitOfWork& uow) { r = mark_read(uow, user, id, now_ms()); });
  } catch (const std::exception& e) {
    log_failure("MarkRead", user, e);
    co_return Outcome::failed(server_error("MarkRead"));
  }
  if (r == MarkRead::not_found || r == MarkRead::not_owner)
    co_return Outcome::failed("Notification '" + id + "' was not found.");
  co_return Outcome{};
}

awaitable<Outcome> get_unread_method(HubCore& core, const std::string& user, const boost::json::array& args) {
  if (!args.empty()) co_return Outcome::failed("GetUnread takes no arguments.");
  store::InboxPage page;
  try {
    co_await store::read_async(core.store, [&](store::UnitOfWork& uow) { page = unread(uow, user); });
  } catch (const std::exception& e) {
    log_failure("GetUnread", user, e);
    co_return Outcome::failed(server_error("GetUnread"));
  }
  boost::json::array items;
  items.reserve(page.items.size());
  for (const auto& n : page.items) items.push_back(inapp_view(n));
  co_return Outcome{{}, boost::json::value(std::move(items))};
}

}  // namespace

awaitable<std::string> run_invocation(std::shared_ptr<HubCore> core, std::string user, Message m) {
  namespace beast = boost::beast;
  Outcome out;
  if (m.streams) {
    out.error = "Client-to-server streams are not supported.";
  } else if (beast::iequals(m.target, "MarkRead")) {
    out = co_await mark_read_method(*core, user, m.arguments);
  } else if (beast::iequals(m.target, "GetUnread")) {
    out = co_await get_unread_method(*core, user, m.arguments);
  } else {
    out.error = "Method '" + m.target + "' does not exist.";
  }
  if (m.invocation_id.empty()) co_return std::string();
  if (!out.error.empty()) co_return completion_error(m.invocation_id, out.error);
  if (out.result) co_return completion_record(m.invocation_id, *out.result);
  co_return completion_record(m.invocation_id);
}

}  // namespace comms::hub
