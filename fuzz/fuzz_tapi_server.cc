// Fuzz target: the whole TAPI RESTCONF interface without a socket (TapiServer::Handle: the same
// routing, path and query decoding, bearer-token check, body parsing, decoding, PCE calls and
// RFC 8040 error path as over HTTP), on a PCE whose writes need a bearer token.
//
// Input, shaped like an HTTP request so seeds are readable and mutations stay meaningful:
//   METHOD TARGET                 e.g. POST /restconf/operations/tapi-...:compute-p-2-p-path
//   Authorization: Bearer ...     optional header lines (Authorization, Content-Type)
//                                 a blank line
//   body                          the rest
//
// Properties checked on every request:
//   - no 500: every refusal of a client's request is its fault (4xx) or 501, never a crash or
//     an "internal error";
//   - every 4xx/5xx reply is an RFC 8040 `ietf-restconf:errors` JSON body whose error-type and
//     error-tag are the ones RFC 8040 defines, and every JSON reply parses;
//   - the PCE's invariants hold afterwards (spectrum, lit lightpaths and services agree).
// Services and paths created by one input are deleted before the next, so runs are repeatable.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/tapi_fixture.h"
#include "tapi/server.h"

namespace eonops::fuzz {
namespace {

using tapi::Json;

constexpr const char* kToken = "fuzz-token-0123456789";

tapi::TapiServer& Server() {
  static tapi::TapiServer* server = [] {
    pce::Pce& p = FuzzPce();
    tapi::TapiServerOptions o = tapi::TapiServerOptions::FromConfig(p.config());
    o.port = 0;
    o.threads = 1;
    // Tokens are read when the server starts; it listens on a loopback port nobody calls.
    const std::string dir =
        std::filesystem::temp_directory_path() / ("eonops-fuzz-tapi-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    o.token_file = dir + "/tokens";
    std::ofstream(o.token_file) << "fuzzer " << kToken << "\n";
    auto* s = new tapi::TapiServer(p, o);
    s->Start();
    std::filesystem::remove_all(dir);
    return s;
  }();
  return *server;
}

void CheckErrorBody(const tapi::TapiServer::Reply& r, const std::string& request) {
  static const std::set<std::string> kTypes = {"transport", "rpc", "protocol", "application"};
  static const std::set<std::string> kTags = {"in-use",
                                              "invalid-value",
                                              "too-big",
                                              "missing-attribute",
                                              "bad-attribute",
                                              "unknown-attribute",
                                              "bad-element",
                                              "unknown-element",
                                              "unknown-namespace",
                                              "access-denied",
                                              "lock-denied",
                                              "resource-denied",
                                              "rollback-failed",
                                              "data-exists",
                                              "data-missing",
                                              "operation-not-supported",
                                              "operation-failed",
                                              "partial-operation",
                                              "malformed-message",
                                              "missing-element"};
  const Json body = Json::parse(r.body, nullptr, false);
  const std::string where = std::to_string(r.status) + " for " + request + ": " + Shown(r.body);
  EONOPS_FUZZ_CHECK(body.is_object() && body.contains("ietf-restconf:errors"),
                    "an error reply is not an RFC 8040 body: " + where);
  const Json& list = body["ietf-restconf:errors"]["error"];
  EONOPS_FUZZ_CHECK(list.is_array() && !list.empty(), "no error list: " + where);
  for (const Json& e : list) {
    EONOPS_FUZZ_CHECK(e.contains("error-type") && e["error-type"].is_string() &&
                          kTypes.count(e["error-type"].get<std::string>()),
                      "bad error-type: " + where);
    EONOPS_FUZZ_CHECK(e.contains("error-tag") && e["error-tag"].is_string() &&
                          kTags.count(e["error-tag"].get<std::string>()),
                      "bad error-tag: " + where);
    EONOPS_FUZZ_CHECK(e.contains("error-message") && e["error-message"].is_string(),
                      "no error-message: " + where);
  }
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops;
  using namespace eonops::fuzz;
  std::string_view rest = AsText(data, size);
  const std::string_view request_line = TakeLine(&rest);
  const size_t space = request_line.find(' ');
  if (space == std::string_view::npos) return 0;
  const std::string method(request_line.substr(0, space));
  const std::string target(request_line.substr(space + 1));
  std::string authorization, content_type = "application/yang-data+json";
  while (!rest.empty()) {
    const std::string_view line = TakeLine(&rest);
    if (line.empty()) break;
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon), value = line.substr(colon + 2);
    if (name == "Authorization") authorization = value;
    if (name == "Content-Type") content_type = value;
  }
  const std::string body(rest);

  const tapi::TapiServer::Reply r =
      Server().Handle(method, target, body, authorization, content_type);
  const std::string request = method + " " + Shown(target, 200);
  EONOPS_FUZZ_CHECK(r.status < 500 || r.status == 501, "a client's request got " +
                                                           std::to_string(r.status) + ": " +
                                                           request + " -> " + Shown(r.body));
  if (r.status >= 400 && method != "HEAD") CheckErrorBody(r, request);
  if (!r.body.empty() && r.content_type.find("json") != std::string::npos)
    EONOPS_FUZZ_CHECK(Json::accept(r.body), "a JSON reply does not parse: " + request);

  pce::Pce& p = FuzzPce();
  const std::string broken = p.CheckInvariants();
  EONOPS_FUZZ_CHECK(broken.empty(), "PCE invariants broken after " + request + ": " + broken);
  for (const auto& s : p.ListServices()) p.DeleteService(s.uuid);
  for (const auto& c : p.ListComputedPaths()) p.DeleteComputedPath(c.uuid);
  return 0;
}
