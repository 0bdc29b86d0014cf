// A batch of environments stepped in one call over preallocated buffers (EnvPool-style).
//
// Environment i is seeded `seed + i` at construction and reseeded `seed + i + num_envs * k` at
// its k-th automatic reset, so a batched run is reproducible for a given seed and batch size,
// whatever the number of worker threads.
//
//   VecEnv vec([] { return MakeDeepRmsaEnv(cfg); }, /*num_envs=*/16, /*seed=*/1, /*threads=*/2);
//   vec.Reset();
//   vec.Step(actions.data());  // actions: num_envs int32
//   const float* obs = vec.Observations();  // num_envs * observation_size
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

class VecEnv {
 public:
  using Factory = std::function<std::unique_ptr<Env>()>;

  VecEnv(const Factory& factory, int num_envs, uint64_t seed, int num_threads = 1);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const EnvSpec& Spec() const { return envs_.front()->Spec(); }
  int NumEnvs() const { return static_cast<int>(envs_.size()); }

  void Reset();
  // Reset() from a new base seed: environment i is then seeded `seed + i` (Python's
  // VecEnv.reset(seed=...) reseeds a batch without rebuilding it).
  void Reset(uint64_t seed);
  // Steps every environment with its action; an environment whose episode ended is reset
  // and its slot holds the first observation of the new episode (Dones() says which). An
  // exception from any environment, on any thread, is rethrown here once the step is over.
  void Step(const int32_t* actions);

  const float* Observations() const { return observations_.data(); }
  const uint8_t* Masks() const { return masks_.data(); }
  const float* Rewards() const { return rewards_.data(); }
  const uint8_t* Dones() const { return dones_.data(); }
  // 1 where the episode ended on its step count (done and truncated): bootstrap from
  // FinalObservations() there.
  const uint8_t* Truncated() const { return truncated_.data(); }
  // Where Dones()[i]: the observation env i wrote at its last step, before the reset replaced it
  // (num_envs * observation_size; rows of envs not done are stale).
  const float* FinalObservations() const { return final_observations_.data(); }
  const uint8_t* FinalMasks() const { return final_masks_.data(); }  // likewise, their masks
  const uint8_t* Accepted() const { return accepted_.data(); }

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
