// Errors of the tracking store and server, with MLflow's error codes.
//
// Every failure a client can cause (unknown id, duplicate name, bad value, oversize batch) is a
// TrackingError carrying one ErrorCode; the REST edge turns it into MLflow's
// {"error_code": "...", "message": "..."} body with the status MLflow uses for that code.
//
//   try {
//     store.GetRun("nope");
//   } catch (const eonops::tracking::TrackingError& e) {
//     if (e.code() == eonops::tracking::ErrorCode::kResourceDoesNotExist) { ... }
//     int status = eonops::tracking::HttpStatus(e.code());  // 404
//   }
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eonops::tracking {

// The subset of MLflow's databricks_pb2.ErrorCode that this service produces or understands.
enum class ErrorCode {
  kInvalidParameterValue,   // 400
  kBadRequest,              // 400 (malformed JSON, body not an object)
  kResourceAlreadyExists,   // 400, as MLflow does (not 409)
  kResourceDoesNotExist,    // 404
  kEndpointNotFound,        // 404
  kUnauthenticated,         // 401
  kPermissionDenied,        // 403
  kResourceConflict,        // 409
  kRequestLimitExceeded,    // 429
  kInternalError,           // 500
  kTemporarilyUnavailable,  // 503
};

// "INVALID_PARAMETER_VALUE", ...
const char* ErrorCodeName(ErrorCode code);
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);
// The HTTP status MLflow's server answers with for `code`.
int HttpStatus(ErrorCode code);

class TrackingError : public std::runtime_error {
 public:
  TrackingError(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace eonops::tracking
