// RFC 8040 errors of the TAPI interface: one ErrorCode per kind of failure, and one function
// that turns it into the HTTP status and the `ietf-restconf:errors` body.
//
//   throw TapiError(ErrorCode::kInvalidValue, "unknown service-interface-point sip-X",
//                   "/tapi-path-computation:compute-p-2-p-path/input/end-point");
//   ...
//   HttpError e = ToHttpError(err);   // e.status == 400, e.body["ietf-restconf:errors"]...
//
// Status per code (RFC 8040 section 7):
//   kMalformedMessage        400 protocol    malformed-message    (body is not JSON, too nested)
//   kInvalidValue            400 application invalid-value
//   kMissingElement          400 application missing-element
//   kUnknownResource         404 protocol    invalid-value        (no such path or uuid)
//   kAccessDeniedNoToken     401 protocol    access-denied        (write without a bearer token)
//   kAccessDeniedBadToken    403 protocol    access-denied        (write with a wrong token)
//   kOperationNotSupported   405 protocol    operation-not-supported (method not allowed here)
//   kNotImplemented          501 application operation-not-supported
//   kResourceDenied          409 application resource-denied      (no feasible lightpath)
//   kDataExists              409 application data-exists          (uuid already used)
//   kTooBig                  413 transport   too-big
//   kUnsupportedMediaType    415 protocol    invalid-value
//   kOperationFailed         500 application operation-failed     (a bug or the disk; never the
//   client)
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace eonops::tapi {

enum class ErrorCode {
  kMalformedMessage,
  kInvalidValue,
  kMissingElement,
  kUnknownResource,
  kAccessDeniedNoToken,
  kAccessDeniedBadToken,
  kOperationNotSupported,
  kNotImplemented,
  kResourceDenied,
  kDataExists,
  kTooBig,
  kUnsupportedMediaType,
  kOperationFailed,
};

int HttpStatus(ErrorCode code);
const char* ErrorTag(ErrorCode code);
const char* ErrorType(ErrorCode code);

class TapiError : public std::runtime_error {
 public:
  TapiError(ErrorCode code, const std::string& message, std::string path = "",
            nlohmann::json info = nlohmann::json())
      : std::runtime_error(message), code_(code), path_(std::move(path)), info_(std::move(info)) {}
  ErrorCode code() const { return code_; }
  const std::string& path() const { return path_; }
  const nlohmann::json& info() const { return info_; }  // error-info, when not null

 private:
  ErrorCode code_;
  std::string path_;
  nlohmann::json info_;
};

struct HttpError {
  int status = 500;
  nlohmann::json body;
};

// {"ietf-restconf:errors": {"error": [{"error-type", "error-tag", "error-path"?, "error-message",
// "error-info"?}]}}
HttpError ToHttpError(ErrorCode code, const std::string& message, const std::string& path = "",
                      const nlohmann::json& info = nlohmann::json());
inline HttpError ToHttpError(const TapiError& e) {
  return ToHttpError(e.code(), e.what(), e.path(), e.info());
}

}  // namespace eonops::tapi
