// The plain-array interface every eonops environment offers to learners.
//
// An environment is a use case (latency-aware RSA, QoT-aware RMBSA, energy-aware RMSA, the
// DeepRMSA benchmark) over the twin's network model. It declares its observation and action
// spaces once, in an EnvSpec, and is stepped through raw buffers so that nothing is allocated
// per step and no learner library leaks into twin/. Learners (agents/) see only this header
// and vec_env.h.
//
//   std::unique_ptr<Env> env = MakeEnv(...);
//   std::vector<float> obs(env->Spec().observation_size);
//   std::vector<uint8_t> mask(env->Spec().num_actions);
//   env->Reset(/*seed=*/1, obs.data(), mask.data());
//   StepResult r = env->Step(action, obs.data(), mask.data());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eonops::twin {

// One named slice of the observation vector, for documentation and manifests.
struct ObservationField {
  std::string name;
  int offset = 0;
  int size = 0;
  std::string description;
};

struct EnvSpec {
  std::string name;  // e.g. "deeprmsa", "latency-rsa", "qot-rmbsa", "energy-rmsa"
  int observation_size = 0;
  int num_actions = 0;
  std::vector<ObservationField> observation_layout;
  std::string action_description;  // how an action index maps to (path, band, block)
  std::string reward_description;
  std::string config_hash;  // hash of the canonical config JSON the env was built from
};

// What a step reports besides the next observation. `accepted` is false when the request was
// blocked; `done` marks the end of an episode (the env must then be Reset). An episode that
// ends on a step count while the network goes on is `truncated` (done and truncated): the
// value of the observation after the step still counts, so learners bootstrap from it (the
// observation the step wrote, before any reset). An episode that ends by itself is done and
// not truncated (terminated).
struct StepResult {
  float reward = 0.0f;
  bool done = false;
  bool accepted = false;
  bool truncated = false;
  bool terminated() const { return done && !truncated; }
};

class Env {
 public:
  virtual ~Env() = default;
  virtual const EnvSpec& Spec() const = 0;
  // Starts a new episode with this seed; writes the first observation and its action mask
  // (mask[a] = 1 when action a is feasible). The same seed gives the same episode.
  virtual void Reset(uint64_t seed, float* observation, uint8_t* mask) = 0;
  // Applies `action` to the current request, advances to the next request and writes its
  // observation and mask. An action whose mask bit is 0 is rejected as a block (never a crash).
  virtual StepResult Step(int action, float* observation, uint8_t* mask) = 0;
};

}  // namespace eonops::twin
