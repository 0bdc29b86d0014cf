// A batch of environments stepped in one call over preallocated buffers (EnvPool-style).
//
// BatchedEnv is what a learner steps: one Step call per vector step for the whole batch, with
// the results as arrays. VecEnv implements it over local environments (optionally on worker
// threads); proto::RemoteVecEnv implements it over twin workers on other machines, one call
// per worker per step. Both follow the same seeding, so the same seed and number of
// environments give the same trajectories wherever the environments run.
//
// Environment i is seeded `seed + i` at construction and reseeded `seed + i + num_envs * k` at
// its k-th automatic reset, so a batched run is reproducible for a given seed and batch size,
// whatever the number of worker threads.
//
//   VecEnv vec([] { return MakeDeepRmsaEnv(cfg); }, /*num_envs=*/16, /*seed=*/1, /*threads=*/2);
//   BatchedEnv& envs = vec;                 // or a proto::RemoteVecEnv
//   envs.Reset();
//   envs.Step(actions.data());              // actions: num_envs int32
//   const float* obs = envs.Observations(); // num_envs * observation_size
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "twin/env.h"

namespace eonops::twin {

// The batched environment interface: arrays are environment-major and stay valid until the
// next Reset or Step.
class BatchedEnv {
 public:
  virtual ~BatchedEnv() = default;

  virtual const EnvSpec& Spec() const = 0;
  virtual int NumEnvs() const = 0;

  virtual void Reset() = 0;
  // Steps every environment with its action; an environment whose episode ended is reset
  // and its slot holds the first observation of the new episode (Dones() says which). A
  // failure of any environment (or of the worker holding it) is thrown here, once the step is
  // over everywhere.
  virtual void Step(const int32_t* actions) = 0;

  virtual const float* Observations() const = 0;  // num_envs * observation_size
  virtual const uint8_t* Masks() const = 0;       // num_envs * num_actions, 1 = feasible
  virtual const float* Rewards() const = 0;
  virtual const uint8_t* Dones() const = 0;
  // 1 where the episode ended on its step count (done and truncated): bootstrap from
  // FinalObservations() there.
  virtual const uint8_t* Truncated() const = 0;
  // Where Dones()[i]: the observation env i wrote at its last step, before the reset replaced it
  // (num_envs * observation_size; rows of envs not done are stale).
  virtual const float* FinalObservations() const = 0;
  virtual const uint8_t* FinalMasks() const = 0;  // likewise, their masks
  virtual const uint8_t* Accepted() const = 0;
};

// Makes a learner's batch of environments for a seed (the trainer makes a new one on resume).
using BatchedEnvMaker = std::function<std::unique_ptr<BatchedEnv>(uint64_t seed)>;

// BatchedEnv over local environments, stepped on `num_threads` threads (the caller's included).
class VecEnv final : public BatchedEnv {
 public:
  using Factory = std::function<std::unique_ptr<Env>()>;

  VecEnv(const Factory& factory, int num_envs, uint64_t seed, int num_threads = 1);
  ~VecEnv() override;
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const EnvSpec& Spec() const override { return envs_.front()->Spec(); }
  int NumEnvs() const override { return static_cast<int>(envs_.size()); }

  void Reset() override;
  // Reset() from a new base seed: environment i is then seeded `seed + i` (Python's
  // VecEnv.reset(seed=...) reseeds a batch without rebuilding it).
  void Reset(uint64_t seed);
  void Step(const int32_t* actions) override;

  const float* Observations() const override { return observations_.data(); }
  const uint8_t* Masks() const override { return masks_.data(); }
  const float* Rewards() const override { return rewards_.data(); }
  const uint8_t* Dones() const override { return dones_.data(); }
  const uint8_t* Truncated() const override { return truncated_.data(); }
  const float* FinalObservations() const override { return final_observations_.data(); }
  const uint8_t* FinalMasks() const override { return final_masks_.data(); }
  const uint8_t* Accepted() const override { return accepted_.data(); }

 private:
  void StepRange(int begin, int end);
  void WorkerLoop(int worker);

  std::vector<std::unique_ptr<Env>> envs_;
  uint64_t seed_;
  std::vector<uint64_t> resets_;  // per env: how many automatic resets so far
  const int32_t* actions_ = nullptr;

  std::vector<float> observations_;
  std::vector<uint8_t> masks_;
  std::vector<float> rewards_;
  std::vector<uint8_t> dones_;
  std::vector<uint8_t> truncated_;
  std::vector<float> final_observations_;
  std::vector<uint8_t> final_masks_;
  std::vector<uint8_t> accepted_;

  // Worker pool: worker w steps a fixed contiguous slice of envs; the caller steps slice 0.
  int num_parts_ = 1;  // slices stepped in parallel: the caller plus the workers
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr worker_error_;  // the first exception a worker thread caught this step
};

}  // namespace eonops::twin
