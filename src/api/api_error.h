// The one place where failures become HTTP statuses and JSON error bodies.
// Handlers throw ApiError for request problems; store errors are mapped here too.
#pragma once
#include <stdexcept>
#include <string>

#include "http/message.h"

namespace comms::api {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

inline ApiError bad_request(std::string message) { return ApiError(400, "invalid_request", std::move(message)); }
inline ApiError not_found(std::string message) { return ApiError(404, "not_found", std::move(message)); }
inline ApiError forbidden(std::string message) { return ApiError(403, "forbidden", std::move(message)); }

// Maps the exception in flight (call from a catch block) to a response:
// ApiError -> its status; store::ConflictError -> 409 "conflict";
// store::DuplicateError -> 409; store::StoreError -> 503 "store_unavailable";
// anything else -> 500 "internal" (logged, message not leaked).
http::Response error_response(std::exception_ptr e, const http::Request& req);

}  // namespace comms::api
