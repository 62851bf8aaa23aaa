#include <boost/asio/use_awaitable.hpp>

#include "common/ids.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

constexpr std::size_t kMaxRequestId = 128;

bool sane(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestId) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

class RequestId final : public Middleware {
 public:
  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    ex.request.request_id = resolve_request_id(ex.request.header("X-Request-Id"));
    Response r = co_await next(ex);
    r.set_header("X-Request-Id", ex.request.request_id);
    co_return r;
  }
};

}  // namespace

std::string resolve_request_id(std::optional<std::string_view> client_id) {
  if (client_id && sane(*client_id)) return std::string(*client_id);
  return new_uuid();
}

std::unique_ptr<Middleware> request_id_middleware() {
  return std::make_unique<RequestId>();
}

}  // namespace comms::http
