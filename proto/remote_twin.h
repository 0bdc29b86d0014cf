// Learner-side clients of remote twin workers (proto/twin_server.h, `eonops twin serve`).
//
// Two ways to put a learner's environments on other machines; both give, for the same seed and
// number of environments, exactly the trajectories of a local twin::VecEnv:
//
//   RemoteVecEnv: twin::VecEnv's interface over gRPC. The N environments are split into
//   contiguous slices, one per worker; a Step is one call per worker, all in flight at once,
//   with the actions and results as packed arrays.
//
//     auto vec = ConnectTwins({"host1:50051", "host2:50051"}, env_config, /*num_envs=*/64,
//     /*seed=*/1); vec->Reset(); vec->Step(actions.data());            // throws RpcError naming
//     the worker that failed const float* obs = vec->Observations();
//
//   RemoteEnvFactory: a twin::VecEnv::Factory whose environments live on the workers (one
//   remote environment per twin::Env; twin::VecEnv drives the seeds), a drop-in for
//   twin::MakeEnvFactory wherever a factory is taken, e.g. agents::Trainer:
//
//     Trainer trainer(cfg, RemoteEnvFactory(workers, env_config, cfg.train.num_envs), setup);
//
//   Each Env::Reset/Step is one call, so this pays one round trip per environment and step;
//   RemoteVecEnv pays one per worker and step.
//
// Every call has a deadline (RpcOptions); a worker that is down, restarted or hung fails the
// call with an RpcError naming its host:port within that deadline, never a hang.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/rpc.h"
#include "twin/envs.h"
#include "twin/vec_env.h"

namespace eonops::proto {

struct TwinClientOptions : RpcOptions {
  std::string client_name;  // shown in the workers' logs; empty: "eonops"
};

class RemoteVecEnv {
 public:
  // Connects to every worker (waiting up to connect_timeout for each) and opens its slice.
  // Throws RpcError naming a worker that is unreachable or refuses the config, and
  // std::runtime_error when workers disagree on the spec or build another config hash than
  // `config` (different eonops versions or configs/ on the workers).
  RemoteVecEnv(const std::vector<std::string>& endpoints, const twin::EnvConfig& config,
               int num_envs, uint64_t seed, TwinClientOptions options = {});
  ~RemoteVecEnv();  // closes the workers' batches (best effort)
  RemoteVecEnv(const RemoteVecEnv&) = delete;
  RemoteVecEnv& operator=(const RemoteVecEnv&) = delete;

  const twin::EnvSpec& Spec() const;
  int NumEnvs() const;

  void Reset();
  void Step(const int32_t* actions);

  const float* Observations() const;
  const uint8_t* Masks() const;
  const float* Rewards() const;
  const uint8_t* Dones() const;
  const uint8_t* Accepted() const;

  // The worker that holds environment `env`.
  const std::string& EndpointOf(int env) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<RemoteVecEnv> ConnectTwins(const std::vector<std::string>& endpoints,
                                           const twin::EnvConfig& config, int num_envs,
                                           uint64_t seed, TwinClientOptions options = {});

// Environment c of the factory's calls (counted modulo num_envs, so a trainer that rebuilds its
// VecEnv gets the same placement) goes to the worker holding slice c of num_envs, as in
// RemoteVecEnv. Connects to every worker before returning (throws RpcError naming one that is
// unreachable). The returned environments throw RpcError from Reset/Step when their worker fails.
twin::VecEnv::Factory RemoteEnvFactory(const std::vector<std::string>& endpoints,
                                       const twin::EnvConfig& config, int num_envs,
                                       TwinClientOptions options = {});

struct TwinWorkerHealth {
  std::string endpoint, status, version;
  int threads = 0, open_batches = 0;
  int64_t open_envs = 0, steps_served = 0;
  double uptime_s = 0;
};
// One Health call; throws RpcError.
TwinWorkerHealth CheckTwinWorker(const std::string& endpoint, RpcOptions options = {});

}  // namespace eonops::proto
