// Learner-side client of remote twin workers (proto/twin_server.h, `eonops twin serve`).
//
// RemoteVecEnv is a twin::BatchedEnv whose environments live on the workers: the N
// environments are split into contiguous slices, one per worker; a Step is one call per worker,
// all in flight at once, with the actions and results as packed arrays. For the same seed and
// number of environments it gives exactly the trajectories of a local twin::VecEnv (truncated
// episodes and their final observations included), so a trainer takes either:
//
//   TrainerSetup setup;
//   setup.make_envs = [&](uint64_t seed) {
//     return ConnectTwins({"host1:50051", "host2:50051"}, env_config, num_envs, seed);
//   };
//   auto vec = ConnectTwins(workers, env_config, /*num_envs=*/64, /*seed=*/1);
//   vec->Reset();
//   vec->Step(actions.data());  // throws RpcError naming the worker that failed
//   const float* obs = vec->Observations();
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

class RemoteVecEnv final : public twin::BatchedEnv {
 public:
  // Connects to every worker (waiting up to connect_timeout for each) and opens its slice.
  // Throws RpcError naming a worker that is unreachable or refuses the config, and
  // std::runtime_error when workers disagree on the spec or build another config hash than
  // `config` (different eonops versions or configs/ on the workers).
  RemoteVecEnv(const std::vector<std::string>& endpoints, const twin::EnvConfig& config,
               int num_envs, uint64_t seed, TwinClientOptions options = {});
  ~RemoteVecEnv() override;  // closes the workers' batches (best effort)
  RemoteVecEnv(const RemoteVecEnv&) = delete;
  RemoteVecEnv& operator=(const RemoteVecEnv&) = delete;

  const twin::EnvSpec& Spec() const override;
  int NumEnvs() const override;

  void Reset() override;
  void Step(const int32_t* actions) override;

  const float* Observations() const override;
  const uint8_t* Masks() const override;
  const float* Rewards() const override;
  const uint8_t* Dones() const override;
  const uint8_t* Truncated() const override;
  const float* FinalObservations() const override;
  const uint8_t* FinalMasks() const override;
  const uint8_t* Accepted() const override;

  // The worker that holds environment `env`.
  const std::string& EndpointOf(int env) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<RemoteVecEnv> ConnectTwins(const std::vector<std::string>& endpoints,
                                           const twin::EnvConfig& config, int num_envs,
                                           uint64_t seed, TwinClientOptions options = {});

struct TwinWorkerHealth {
  std::string endpoint, status, version;
  int threads = 0, open_batches = 0;
  int64_t open_envs = 0, steps_served = 0;
  double uptime_s = 0;
};
// One Health call; throws RpcError.
TwinWorkerHealth CheckTwinWorker(const std::string& endpoint, RpcOptions options = {});

}  // namespace eonops::proto
