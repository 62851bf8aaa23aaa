#include "api/api_error.h"

#include "commands/rejected.h"
#include "common/log.h"
#include "store/store.h"

namespace comms::api {

http::Response error_response(std::exception_ptr e, const http::Request& req) {
  try {
    std::rethrow_exception(e);
  } catch (const ApiError& err) {
    return http::Response::error(err.status(), err.code(), err.what(), req.request_id);
  } catch (const commands::Rejected& err) {
    using K = commands::Rejected::Kind;
    int status = 400;
    switch (err.kind()) {
      case K::invalid: status = 400; break;
      case K::unprocessable: status = 422; break;
      case K::not_found: status = 404; break;
      case K::conflict: status = 409; break;
      case K::forbidden: status = 403; break;
    }
    return http::Response::error(status, err.code(), err.what(), req.request_id);
  } catch (const store::ConflictError& err) {
    return http::Response::error(409, "conflict", std::string("concurrent update: ") + err.what(),
                                 req.request_id);
  } catch (const store::DuplicateError& err) {
    return http::Response::error(409, "duplicate", err.what(), req.request_id);
  } catch (const store::StoreError& err) {
    log::error("store_error", {{"request_id", req.request_id}, {"error", err.what()}});
    return http::Response::error(503, "store_unavailable", "the database is unavailable; retry later",
                                 req.request_id);
  } catch (const std::exception& err) {
    log::error("handler_error", {{"request_id", req.request_id}, {"error", err.what()}});
    return http::Response::error(500, "internal", "internal error", req.request_id);
  }
}

}  // namespace comms::api
