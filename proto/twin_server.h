// TwinServer: a remote twin worker. Serves TwinService (proto/twin.proto): batches of eonops
// environments that learners on other machines open, reset and step over gRPC.
//
//   TwinServerOptions o;
//   o.port = 50051;          // 0: any free port
//   o.threads = 8;           // environments of one batch step on up to 8 threads
//   TwinServer server(o);
//   int port = server.Start();  // serves on gRPC's threads; returns the bound port
//   server.Wait();              // until Stop() from another thread
//
// Environments are built exactly as twin::MakeEnvFactory builds them and seeded as twin::VecEnv
// seeds them (see proto/twin.proto), so a learner gets the trajectories it would get locally.
// Batches that no call touched for `idle_timeout` are closed, so learners that die without
// closing do not leak environments. Bad requests get INVALID_ARGUMENT with the reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace eonops::proto {

struct TwinServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 50051;
  int threads = 1;             // parallelism of one batch's Reset and Step
  int64_t max_envs = 1 << 16;  // open environments over all batches
  std::chrono::seconds idle_timeout{600};
  std::string config_dir;  // configs/ for topologies, bands, ...; empty: twin::ConfigDir()
  bool log = false;        // one line on stderr per batch opened, closed or expired
};

struct TwinServerStats {
  int open_batches = 0;
  int64_t open_envs = 0;
  int64_t steps_served = 0;  // environment steps
  int64_t batches_expired = 0;
};

class TwinServer {
 public:
  explicit TwinServer(TwinServerOptions options);
  ~TwinServer();  // Stop()
  TwinServer(const TwinServer&) = delete;
  TwinServer& operator=(const TwinServer&) = delete;

  // Throws std::runtime_error naming host:port when it cannot listen.
  int Start();
  // Ends the server: in-flight calls get up to `grace` to finish, then are cancelled.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));
  void Wait();
  int port() const;
  TwinServerStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::proto
