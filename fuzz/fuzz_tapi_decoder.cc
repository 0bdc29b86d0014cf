// Fuzz target: the TAPI request decoder (tapi/codec.h) on arbitrary JSON bodies, the way the
// RESTCONF server calls it for every RPC and data-store write.
//
// Properties checked on every input:
//   - the decoder either returns or throws TapiError; any other exception would reach the
//     server's catch-all and answer 500 for a client's mistake;
//   - a TapiError turns into a 4xx RFC 8040 body that serialises (invalid UTF-8 included);
//   - a decoded request that PathRequest::Check accepts survives the durable form the state
//     store keeps (PathRequest::ToJson -> text -> FromJson) unchanged, so a restart restores
//     exactly the services that were provisioned.
// Input: the request body (JSON text; bodies that are not JSON stop at the parser, which the
// server-level target fuzz_tapi_server covers).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/tapi_fixture.h"
#include "tapi/codec.h"
#include "tapi/errors.h"

namespace eonops::fuzz {
namespace {

using tapi::Json;
using tapi::TapiError;

void CheckError(const TapiError& e) {
  const tapi::HttpError h = tapi::ToHttpError(e);
  EONOPS_FUZZ_CHECK(h.status >= 400 && h.status < 500,
                    "the decoder answered " + std::to_string(h.status) + ": " + e.what());
  const std::string body = h.body.dump(-1, ' ', false, Json::error_handler_t::replace);
  EONOPS_FUZZ_CHECK(Json::accept(body), "the error body is not JSON: " + Shown(body));
}

bool SameRequest(const pce::PathRequest& a, const pce::PathRequest& b) {
  auto same_spectrum = [](const auto& x, const auto& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || (x->band == y->band && x->slot == y->slot && x->width == y->width);
  };
  return a.src == b.src && a.dst == b.dst && a.bit_rate_gbps == b.bit_rate_gbps &&
         a.latency_bound_us == b.latency_bound_us && a.use_case == b.use_case &&
         a.include_links == b.include_links && a.exclude_links == b.exclude_links &&
         a.include_nodes == b.include_nodes && a.exclude_nodes == b.exclude_nodes &&
         same_spectrum(a.spectrum, b.spectrum);
}

void CheckDecoded(const pce::PathRequest& r, const pce::TeDatabase& ted) {
  if (!r.Check(ted.model()).empty()) return;  // refused with a 400 before anything is kept
  const std::string durable = r.ToJson().dump();
  const pce::PathRequest back = pce::PathRequest::FromJson(Json::parse(durable));
  EONOPS_FUZZ_CHECK(SameRequest(r, back), "the durable form changes the request: " + durable);
}

// One decoder call as the server makes it; only TapiError may come out.
template <typename F>
void Decode(F&& f) {
  try {
    f();
  } catch (const TapiError& e) {
    CheckError(e);
  }
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops;
  using namespace eonops::fuzz;
  const tapi::Json body = tapi::Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  const pce::TeDatabase& ted = FuzzPce().ted();

  const std::string compute = "/tapi-path-computation:compute-p-2-p-path";
  Decode([&] {
    tapi::ParsedRequest p =
        tapi::ParseComputeInput(tapi::RpcInput(body, compute, false), ted, compute);
    CheckDecoded(p.request, ted);
  });
  const std::string optimize = "/tapi-path-computation:optimize-p-2-p-path";
  Decode([&] {
    const tapi::Json& in = tapi::RpcInput(body, optimize, false);
    tapi::Dialect d = tapi::Dialect::kV21;
    tapi::IdFromInput(in, optimize, &d);
    pce::PathRequest r;  // a kept path's request, as optimize starts from
    r.src = 0;
    r.dst = 2;
    r.bit_rate_gbps = 100;
    if (tapi::ApplyConstraints(in, optimize + "/input", ted, &r)) CheckDecoded(r, ted);
  });
  const std::string create = "/tapi-connectivity:create-connectivity-service";
  Decode([&] {
    tapi::ParsedService p =
        tapi::ParseConnectivityService(tapi::RpcInput(body, create, false), ted, create + "/input");
    CheckDecoded(p.spec.request, ted);
  });
  // The data-store form: {"tapi-connectivity:connectivity-service": [ {...}, ... ]}.
  Decode([&] {
    const tapi::Json* list = tapi::Member(body, "connectivity-service");
    if (!list) return;
    if (!list->is_array()) {
      CheckDecoded(tapi::ParseConnectivityService(*list, ted, "/connectivity-service").spec.request,
                   ted);
      return;
    }
    for (const auto& e : *list)
      CheckDecoded(tapi::ParseConnectivityService(e, ted, "/connectivity-service").spec.request,
                   ted);
  });
  const std::string details = "/tapi-connectivity:get-connectivity-service-details";
  Decode([&] {
    tapi::Dialect d = tapi::Dialect::kV21;
    tapi::IdFromInput(tapi::RpcInput(body, details, false), details, &d);
  });
  return 0;
}
