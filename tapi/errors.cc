#include "tapi/errors.h"

namespace eonops::tapi {

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformedMessage:
    case ErrorCode::kInvalidValue:
    case ErrorCode::kMissingElement:
      return 400;
    case ErrorCode::kUnknownResource:
      return 404;
    case ErrorCode::kAccessDeniedNoToken:
      return 401;
    case ErrorCode::kAccessDeniedBadToken:
      return 403;
    case ErrorCode::kOperationNotSupported:
      return 405;
    case ErrorCode::kNotImplemented:
      return 501;
    case ErrorCode::kResourceDenied:
    case ErrorCode::kDataExists:
      return 409;
    case ErrorCode::kTooBig:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kOperationFailed:
      return 500;
  }
  return 500;
}

const char* ErrorTag(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformedMessage:
      return "malformed-message";
    case ErrorCode::kInvalidValue:
    case ErrorCode::kUnknownResource:
    case ErrorCode::kUnsupportedMediaType:
      return "invalid-value";
    case ErrorCode::kMissingElement:
      return "missing-element";
    case ErrorCode::kAccessDeniedNoToken:
    case ErrorCode::kAccessDeniedBadToken:
      return "access-denied";
    case ErrorCode::kOperationNotSupported:
    case ErrorCode::kNotImplemented:
      return "operation-not-supported";
    case ErrorCode::kResourceDenied:
      return "resource-denied";
    case ErrorCode::kDataExists:
      return "data-exists";
    case ErrorCode::kTooBig:
      return "too-big";
    case ErrorCode::kOperationFailed:
      return "operation-failed";
  }
  return "operation-failed";
}

const char* ErrorType(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTooBig:
      return "transport";
    case ErrorCode::kMalformedMessage:
    case ErrorCode::kUnknownResource:
    case ErrorCode::kAccessDeniedNoToken:
    case ErrorCode::kAccessDeniedBadToken:
    case ErrorCode::kOperationNotSupported:
    case ErrorCode::kUnsupportedMediaType:
      return "protocol";
    default:
      return "application";
  }
}

HttpError ToHttpError(ErrorCode code, const std::string& message, const std::string& path,
                      const nlohmann::json& info) {
  nlohmann::json e = {{"error-type", ErrorType(code)}, {"error-tag", ErrorTag(code)}};
  if (!path.empty()) e["error-path"] = path;
  e["error-message"] = message;
  if (!info.is_null()) e["error-info"] = info;
  HttpError h;
  h.status = HttpStatus(code);
  h.body = {{"ietf-restconf:errors", {{"error", nlohmann::json::array({e})}}}};
  return h;
}

}  // namespace eonops::tapi
