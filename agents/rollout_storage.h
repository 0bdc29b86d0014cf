// Internal to agents/ (includes torch): the PPO rollout buffer over [steps x envs].
//
//   RolloutStorage storage(rollout_steps, num_envs, obs_size, num_actions);
//   for (int t = 0; t < rollout_steps; ++t) storage.Insert(t, obs, masks, act, rewards, dones);
//   storage.ComputeReturns(last_value, gamma, gae_lambda);       // GAE(lambda)
//   for (const MiniBatch& mb : storage.MiniBatches(4, rng)) ...  // shuffled, seeded
//
// dones[t][i] = 1 when the step taken at t ended env i's episode; the VecEnv has then already
// reset it, so the value of the next stored observation is not bootstrapped across the boundary.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "agents/model.h"
#include "agents/random.h"

namespace eonops::agents {

// One minibatch of flattened (step, env) samples; every field has the batch as first dimension.
struct MiniBatch {
  torch::Tensor observations;   // [B, obs]
  torch::Tensor masks;          // [B, A] bool
  torch::Tensor actions;        // [B] int64
  torch::Tensor old_log_probs;  // [B]
  torch::Tensor old_values;     // [B]
  torch::Tensor returns;        // [B]
  torch::Tensor advantages;     // [B]
};

class RolloutStorage {
 public:
  RolloutStorage(int num_steps, int num_envs, int observation_size, int num_actions);

  int num_steps() const { return num_steps_; }
  int num_envs() const { return num_envs_; }

  // Records step t: the observations and masks the actions were chosen on, the choice, and
  // what the environments answered (num_envs rewards and done flags).
  void Insert(int step, const torch::Tensor& observations, const torch::Tensor& masks,
              const ActOutput& act, const float* rewards, const uint8_t* dones);
  // GAE(lambda) advantages and returns (advantage + value); last_value: V of the observations
  // after the final step, [num_envs].
  void ComputeReturns(const torch::Tensor& last_value, float gamma, float gae_lambda);
  // The rollout split into `num_minibatches` shuffled minibatches (the last ones one sample
  // smaller when the rollout does not divide evenly).
  std::vector<MiniBatch> MiniBatches(int num_minibatches, Rng& rng) const;

  // [num_steps, num_envs] views, for statistics and tests.
  const torch::Tensor& rewards() const { return rewards_; }
  const torch::Tensor& values() const { return values_; }
  const torch::Tensor& returns() const { return returns_; }
  const torch::Tensor& advantages() const { return advantages_; }

 private:
  int num_steps_, num_envs_, observation_size_, num_actions_;
  torch::Tensor observations_, masks_, actions_, log_probs_, values_, rewards_, dones_;
  torch::Tensor returns_, advantages_;
};

}  // namespace eonops::agents
