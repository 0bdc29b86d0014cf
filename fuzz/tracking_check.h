// The property the tracking fuzz targets share: a tracking call either works or throws a
// TrackingError whose code is a client error (4xx); any other exception, or a 5xx code such as
// INTERNAL_ERROR, is the service blaming itself for the client's input.
//
//   ExpectClientError([&] { args.OptInt64("step"); }, "OptInt64");
#pragma once

#include <string>

#include "fuzz/fuzz_check.h"
#include "tracking/errors.h"

namespace eonops::fuzz {

template <typename F>
void ExpectClientError(F&& f, const std::string& what) {
  try {
    f();
  } catch (const tracking::TrackingError& e) {
    const int status = tracking::HttpStatus(e.code());
    EONOPS_FUZZ_CHECK(status >= 400 && status < 500,
                      what + ": " + tracking::ErrorCodeName(e.code()) + ": " + e.what());
  }
}

}  // namespace eonops::fuzz
