// Wraps a handler body so that every failure becomes the JSON error shape via
// error_response (the one mapping of errors to statuses).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <exception>

#include "api/api_error.h"
#include "http/router.h"

namespace comms::api {

template <class F>
http::Handler guarded(F f) {
  return [f = std::move(f)](http::Request& req) -> boost::asio::awaitable<http::Response> {
    std::exception_ptr err;
    try {
      co_return co_await f(req);
    } catch (...) {
      err = std::current_exception();
    }
    co_return error_response(err, req);
  };
}

// Staff and customers may only see their own data; service and admin see all.
bool sees_everything(const http::Principal& p);

}  // namespace comms::api
