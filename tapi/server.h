// The PCE's northbound interface: ONF TAPI 2.1/2.4 over RESTCONF (RFC 8040) on cpp-httplib.
//
// Every path works with and without the /restconf prefix and with or without a trailing slash;
// RFC 7951 module prefixes are optional on path segments too. Resources:
//   GET  data/tapi-common:context                                   the whole context
//   GET  .../service-interface-point[=uuid]
//   GET
//   .../tapi-topology:topology-context[/topology[=uuid][/node[=uuid][/owned-node-edge-point[=uuid]]
//                                                               |/link[=uuid]]]
//   GET  .../tapi-path-computation:path-computation-context[/path[=uuid]|/path-comp-service[=uuid]]
//   DELETE .../path=uuid, .../path-comp-service=uuid
//   GET|POST .../tapi-connectivity:connectivity-context[/connectivity-service]
//   GET|DELETE .../connectivity-service=uuid
//   POST operations/tapi-path-computation:{compute,delete,optimize}-p-2-p-path
//   POST operations/tapi-connectivity:{create-connectivity-service,get-connectivity-service-list,
//        get-connectivity-service-details,delete-connectivity-service}
//   POST operations/tapi-common:get-service-interface-point-{list,details},
//        operations/tapi-topology:get-{topology-list,topology-details,node-details,link-details}
//   GET  /metrics (Prometheus text), /health, /.well-known/host-meta, /restconf (RFC 8040 root)
//   GET  /eonops/trace?after=N&limit=M, /eonops/trace/snapshot   the service trace (read-only)
//
// Replies: GET 200; data-store create 201 with Location; DELETE 204; RPC 200 with output (2.4's
// delete-connectivity-service: 204). RPC outputs are named as the request's input was
// ("tapi-connectivity:input" -> "tapi-connectivity:output", "input" -> "output"), unless the
// `bare_output` option or ?bare-output= says which. The TAPI spelling of
// replies is 2.1 by default (option `version`, or ?tapi-version=2.4), and an RPC answers in the
// spelling its request used. Errors are RFC 8040 bodies (tapi/errors.h); no feasible lightpath
// is 409 resource-denied with the cause in error-info. With a token file, every write (POST,
// PUT, PATCH, DELETE, except the read-only get-* RPCs) needs "Authorization: Bearer <token>":
// 401 without one, 403 with a wrong one.
//
//   TapiServer server(pce, TapiServerOptions::FromConfig(pce.config()));
//   int port = server.Start();   // background threads
//   ...
//   server.Stop();
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pce/pce.h"
#include "tapi/codec.h"

namespace eonops::tapi {

struct TapiServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0: an ephemeral port
  std::string token_file;  // "[user] token" per line (as `eonops tracking serve`); empty: open
  int threads = 16;        // HTTP worker threads (one per concurrent keep-alive connection)
  size_t max_body_bytes = 4u << 20;
  Dialect dialect = Dialect::kV21;
  // RPC replies: "output" (true), "<module>:output" (false), or, unset ("auto"), whichever the
  // request's input used (RFC 7951 qualifies it; many clients send and read the bare name).
  std::optional<bool> bare_output;

  // Reads the "tapi" section of the PCE config: version, bare_output, threads, max_body_bytes.
  static TapiServerOptions FromConfig(const pce::PceConfig& config);
};

class TapiServer {
 public:
  TapiServer(pce::Pce& pce, TapiServerOptions options);
  ~TapiServer();
  TapiServer(const TapiServer&) = delete;
  TapiServer& operator=(const TapiServer&) = delete;

  // Binds and serves on background threads; returns the bound port. Throws std::runtime_error
  // when the address cannot be bound or the token file is unusable.
  int Start();
  // Binds and serves on the calling thread until Stop().
  void Run();
  void Stop();
  int port() const;

  // One request through the whole interface without a socket (same routing, parsing, auth,
  // errors and metrics as over HTTP).
  struct Reply {
    int status = 200;
    std::string content_type;
    std::string body;
    std::map<std::string, std::string> headers;
  };
  Reply Handle(const std::string& method, const std::string& target, const std::string& body,
               const std::string& authorization = "",
               const std::string& content_type = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::tapi
