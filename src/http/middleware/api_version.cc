#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "http/middleware.h"

namespace comms::http {
namespace {

// "/api/v7/..." names version 7; any other path has no version.
std::optional<int> api_version(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  const std::size_t end = std::min(path.find('/'), path.size());
  int n = 0;
  const auto [ptr, ec] = std::from_chars(path.data(), path.data() + end, n);
  if (ec != std::errc() || ptr != path.data() + end) return std::nullopt;
  return n;
}

class ApiVersion final : public Middleware {
 public:
  explicit ApiVersion(std::vector<int> supported) : supported_(std::move(supported)) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    if (const auto v = api_version(ex.request.path);
        v && std::find(supported_.begin(), supported_.end(), *v) == supported_.end()) {
      co_return Response::error(404, "unsupported_api_version", "this API version is not supported",
                                ex.request.request_id);
    }
    co_return co_await next(ex);
  }

 private:
  std::vector<int> supported_;
};

}  // namespace

std::unique_ptr<Middleware> api_version_middleware(std::vector<int> supported) {
  return std::make_unique<ApiVersion>(std::move(supported));
}

}  // namespace comms::http
