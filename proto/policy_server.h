// PolicyServer: serves a trained policy (agents/policy.h) over gRPC as PolicyService
// (proto/policy.proto), for a PCE or evaluator on another machine (proto/remote_policy.h).
//
//   PolicyServerOptions o;
//   o.port = 50052;
//   o.replicas = 4;                        // concurrent Infer calls decide in parallel
//   PolicyServer server(o);
//   server.Load("runs/42/policy", {"rmsa-nsfnet", 3, run_id, source});   // or from the registry:
//   server.Load(FetchRegisteredPolicy(client, ParseModelRef("rmsa-nsfnet@champion"), cache));
//   int port = server.Start();
//
// Load may be called again while serving (a new champion): calls in flight finish on the old
// policy, later ones use the new one. Infer answers exactly what agents::Policy::Act answers
// in process, row by row. Bad requests get INVALID_ARGUMENT with the reason; Infer before any
// Load gets UNAVAILABLE.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "proto/policy_source.h"
#include "proto/rpc.h"

namespace eonops::proto {

struct PolicyServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 50052;
  // Copies of the policy loaded: agents::Policy serialises its calls, so this many Infer calls
  // run at once.
  int replicas = 2;
  int max_batch = 1 << 16;  // rows per Infer call
};

class PolicyServer {
 public:
  explicit PolicyServer(PolicyServerOptions options);
  ~PolicyServer();  // Stop()
  PolicyServer(const PolicyServer&) = delete;
  PolicyServer& operator=(const PolicyServer&) = delete;

  // Loads the artifact in `dir` and serves it from the next call on. Throws agents::ConfigError
  // (bad artifact) and keeps serving the previous policy.
  void Load(const std::string& dir, ServedModelInfo info);
  void Load(const FetchedPolicy& fetched) { Load(fetched.dir, fetched.info); }
  // What is served now; name empty before the first Load.
  ServedModelInfo Current() const;

  // Throws std::runtime_error naming host:port when it cannot listen.
  int Start();
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));
  void Wait();
  int port() const;
  int64_t requests_served() const;  // rows answered

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::proto
