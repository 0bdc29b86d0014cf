// A trained policy, loaded from an exported artifact, behind a torch-free interface: what the
// PCE and `eonops evaluate` use to choose an action for one request.
//
//   std::unique_ptr<Policy> policy = Policy::Load("runs/42/policy");  // throws ConfigError
//   Decision d = policy->Act(observation, mask);  // greedy over feasible actions
//   if (!d.feasible()) ...                        // every action was masked: block
//
// Act is greedy (argmax over the masked logits or Q-values), deterministic, and safe to call
// from several threads (calls are serialised; about 12 us p50 / 20 us p99 for the default
// 2 x 128 MLP on DeepRMSA's 84 inputs, bench_agents). It runs the loaded weights in plain
// allocation-free loops, not through torch. Observations are
// raw: the policy applies its own normalisation statistics. Training samples instead; that lives
// in the trainer, not here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agents/manifest.h"

namespace eonops::agents {

struct Decision {
  int action = -1;           // -1 when no action is feasible (mask all zero)
  float probability = 0.0f;  // the policy's probability of `action` (1 for a greedy Q-policy)
  float value = 0.0f;        // critic's state value (PPO) or Q(s, action) (DQN)
  bool feasible() const { return action >= 0; }
};

class Policy {
 public:
  virtual ~Policy() = default;

  // Loads and validates an artifact directory (manifest.json + weights). Errors name the file
  // and what is wrong: missing fields, sizes that disagree, weights that do not fit.
  static std::unique_ptr<Policy> Load(const std::string& dir);

  // `observation`: manifest().observation_size floats; `mask`: manifest().num_actions bytes,
  // non-zero where the action is feasible.
  virtual Decision Act(const float* observation, const uint8_t* mask) const = 0;
  // Per-action scores for explanations and ranked alternatives: probabilities (PPO; 0 where
  // masked) or Q-values (DQN; -infinity where masked). `scores` has num_actions floats.
  virtual void Scores(const float* observation, const uint8_t* mask, float* scores) const = 0;

  virtual const Manifest& manifest() const = 0;
  int observation_size() const { return manifest().observation_size; }
  int num_actions() const { return manifest().num_actions; }
};

// Process-wide torch settings, for tools that must not include torch: intra-op threads
// (at::set_num_threads) and the global seed (torch::manual_seed).
void SetTorchThreads(int threads);
void SeedTorch(uint64_t seed);

}  // namespace eonops::agents
