#include <boost/asio/use_awaitable.hpp>

#include "http/jwt.h"
#include "http/middleware.h"
#include "http/text.h"

namespace comms::http {
namespace {

// Resolves the bearer token into Request::principal and enforces the route's Access.
// The token comes from "Authorization: Bearer", or, on /hubs/ paths only (browsers cannot set
// headers on WebSockets), from the access_token query parameter. Public routes skip all of it;
// a public upgrade resolves a token when one is given but does not require it.
class Auth final : public Middleware {
 public:
  explicit Auth(std::shared_ptr<const TokenVerifier> v) : verifier_(std::move(v)) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const Access* access = ex.access;
    if (!access || (access->is_public && !ex.upgrade)) co_return co_await next(ex);

    Request& req = ex.request;
    const std::optional<std::string_view> token = find_token(req);
    if (!token) {
      if (access->is_public) co_return co_await next(ex);
      co_return unauthorized(req.request_id, "missing bearer token", false);
    }
    Verified v = verifier_->verify(*token);
    if (!v.ok()) co_return unauthorized(req.request_id, to_string(v.error), true);
    req.principal = std::move(v.principal);
    if (!access->allows(req.principal.role)) {
      co_return Response::error(403, "forbidden", "this role may not call this endpoint", req.request_id);
    }
    co_return co_await next(ex);
  }

 private:
  static std::optional<std::string_view> find_token(const Request& req) {
    if (const auto h = req.header("Authorization"); h && istarts_with(*h, "Bearer ")) {
      std::string_view t = h->substr(7);
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      if (!t.empty()) return t;
    }
    if (req.path.starts_with("/hubs/")) {
      if (const auto q = req.query_param("access_token"); q && !q->empty()) return q;
    }
    return std::nullopt;
  }

  static Response unauthorized(std::string_view request_id, std::string_view why, bool token_given) {
    Response r = Response::error(401, "unauthorized", why, request_id);
    r.headers.emplace_back("WWW-Authenticate", token_given ? "Bearer error=\"invalid_token\"" : "Bearer");
    return r;
  }

  std::shared_ptr<const TokenVerifier> verifier_;
};

}  // namespace

std::unique_ptr<Middleware> auth_middleware(std::shared_ptr<const TokenVerifier> verifier) {
  return std::make_unique<Auth>(std::move(verifier));
}

}  // namespace comms::http
