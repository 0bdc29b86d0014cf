#include "tracking/errors.h"

namespace eonops::tracking {
namespace {

struct CodeInfo {
  ErrorCode code;
  const char* name;
  int status;
};

// Status codes follow mlflow/exceptions.py (ERROR_CODE_TO_HTTP_STATUS).
constexpr CodeInfo kCodes[] = {
    {ErrorCode::kInvalidParameterValue, "INVALID_PARAMETER_VALUE", 400},
    {ErrorCode::kBadRequest, "BAD_REQUEST", 400},
    {ErrorCode::kResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS", 400},
    {ErrorCode::kResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", 404},
    {ErrorCode::kEndpointNotFound, "ENDPOINT_NOT_FOUND", 404},
    {ErrorCode::kUnauthenticated, "UNAUTHENTICATED", 401},
    {ErrorCode::kPermissionDenied, "PERMISSION_DENIED", 403},
    {ErrorCode::kResourceConflict, "RESOURCE_CONFLICT", 409},
    {ErrorCode::kRequestLimitExceeded, "REQUEST_LIMIT_EXCEEDED", 429},
    {ErrorCode::kInternalError, "INTERNAL_ERROR", 500},
    {ErrorCode::kTemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", 503},
};

}  // namespace

const char* ErrorCodeName(ErrorCode code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c.name;
  return "INTERNAL_ERROR";
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (const auto& c : kCodes)
    if (name == c.name) return c.code;
  return std::nullopt;
}

int HttpStatus(ErrorCode code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c.status;
  return 500;
}

}  // namespace eonops::tracking
