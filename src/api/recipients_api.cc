// PUT/GET /api/v1/recipients/{id}: the contact directory.
#include <boost/json.hpp>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/routes.h"
#include "api/views.h"
#include "common/clock.h"
#include "delivery/recipient_directory.h"
#include "domain/address.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

domain::Recipient parse_recipient(const Request& req) {
  const auto o = parse_object(req.body, {"id", "name", "phone", "email", "language", "timezone", "branchId",
                                         "version"});
  domain::Recipient r;
  r.id = std::string(req.param("id"));
  if (r.id.empty() || r.id.size() > 128) throw bad_request("recipient id must be 1 to 128 characters");
  if (auto id = optional_string(o, "id", 128); id && *id != r.id)
    throw bad_request("field 'id' does not match the id in the path");
  r.name = optional_string(o, "name", 200).value_or("");
  r.phone = optional_string(o, "phone", 32).value_or("");
  r.email = optional_string(o, "email", 254).value_or("");
  r.language = optional_string(o, "language", 16).value_or("en");
  r.timezone = optional_string(o, "timezone", 64).value_or("Africa/Lusaka");
  r.branch_id = optional_string(o, "branchId", 64).value_or("");
  r.version = optional_int(o, "version", 0, 1LL << 53).value_or(0);
  if (!r.phone.empty()) {
    auto phone = domain::normalize_phone(r.phone);
    if (!phone) throw bad_request("field 'phone' must be a phone number such as +260971234567 or 0971234567");
    r.phone = std::move(*phone);  // stored in E.164
  }
  if (!r.email.empty() && !domain::is_email(r.email)) throw bad_request("field 'email' must be an email address");
  if (!domain::is_language_tag(r.language))
    throw bad_request("field 'language' must be a language tag such as en, bem or ny");
  if (!domain::is_known_timezone(r.timezone))
    throw bad_request("field 'timezone' must be an IANA time zone such as Africa/Lusaka");
  return r;
}

awaitable<Response> put_recipient(Context& ctx, Request& req) {
  auto r = parse_recipient(req);
  r.updated_at = now_ms();
  bool created = false;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    created = !uow.recipients().get(r.id).has_value();
    uow.recipients().upsert(r);
  });
  if (ctx.recipients) co_await ctx.recipients->invalidate(r.id);
  co_return Response::json(created ? 201 : 200, to_json(r));
}

awaitable<Response> get_recipient(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  if (!sees_everything(req.principal) && req.principal.sub != id)
    throw forbidden("you may only read your own recipient record");
  std::optional<domain::Recipient> r;
  if (ctx.recipients)
    r = co_await ctx.recipients->get(id);
  else
    co_await ctx.read([&](store::UnitOfWork& uow) { r = uow.recipients().get(id); });
  if (!r) throw not_found("recipient '" + id + "' does not exist");
  co_return Response::json(200, to_json(*r));
}

}  // namespace

void register_recipient_routes(http::Router& router, Context& ctx) {
  using http::Access;
  router.add("PUT", "/api/v1/recipients/{id}", Access::roles_of({Role::service, Role::admin}),
             guarded([&ctx](Request& r) { return put_recipient(ctx, r); }));
  router.add("GET", "/api/v1/recipients/{id}",
             Access::roles_of({Role::customer, Role::staff, Role::service, Role::admin}),
             guarded([&ctx](Request& r) { return get_recipient(ctx, r); }));
}

}  // namespace comms::api
