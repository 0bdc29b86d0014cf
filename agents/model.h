// Internal to agents/ (includes torch): the networks and the masked categorical distribution.
//
// A policy is a base network (Mlp), output heads and a distribution, as in pytorch-cpp-rl; every
// result is a named struct, never a vector read by index.
//
//   ActorCritic net(obs_size, num_actions, ModelOptions{});
//   ActOutput out = net->Act(obs, mask, &rng);   // sampled; Act(obs, mask, nullptr) is greedy
//   EvaluateOutput ev = net->Evaluate(obs, mask, out.action);
//
// Masks are [batch, actions] bool tensors (true = feasible). Infeasible actions get the logit
// kMaskedLogit, so their probability underflows to exactly 0 and, unlike -inf, no NaN appears in
// the entropy or in any gradient.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "agents/options.h"
#include "agents/random.h"

namespace eonops::agents {

constexpr float kMaskedLogit = -1e9f;

// Linear layers with an activation after each: in -> hidden[0] -> ... -> hidden.back().
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int in_features, const std::vector<int>& hidden_sizes, Activation activation,
          bool orthogonal_init);
  torch::Tensor forward(torch::Tensor x);
  int out_features() const { return out_features_; }
  const std::vector<torch::nn::Linear>& layers() const { return layers_; }
  Activation activation() const { return activation_; }

 private:
  std::vector<torch::nn::Linear> layers_;
  Activation activation_;
  int out_features_;
};
TORCH_MODULE(Mlp);

// A categorical distribution over the feasible actions only.
class MaskedCategorical {
 public:
  // logits: [B, A] float; mask: [B, A] bool. A row with no feasible action is uniform over all
  // actions (the environment then blocks whatever is chosen).
  MaskedCategorical(const torch::Tensor& logits, const torch::Tensor& mask);

  // One action per row, drawn by inverse CDF over the feasible actions: a masked action cannot
  // be returned whatever the rounding. [B] int64.
  torch::Tensor Sample(Rng& rng) const;
  // Greedy: the most probable feasible action. [B] int64.
  torch::Tensor Mode() const;
  torch::Tensor LogProb(const torch::Tensor& actions) const;  // [B]
  torch::Tensor Entropy() const;                              // [B], >= 0, finite
  const torch::Tensor& probs() const { return probs_; }
  const torch::Tensor& log_probs() const { return log_probs_; }

 private:
  torch::Tensor mask_, log_probs_, probs_;
};

// argmax over the entries where mask is true ([B, A] -> [B] int64); 0 for a row with none.
torch::Tensor MaskedArgmax(const torch::Tensor& values, const torch::Tensor& mask);

struct PolicyOutput {
  torch::Tensor logits;  // [B, A], unmasked
  torch::Tensor value;   // [B]
};

struct ActOutput {
  torch::Tensor action;    // [B] int64
  torch::Tensor log_prob;  // [B]
  torch::Tensor value;     // [B]
};

struct EvaluateOutput {
  torch::Tensor log_prob;  // [B], of the given actions
  torch::Tensor entropy;   // [B]
  torch::Tensor value;     // [B]
};

// The PPO network: actor and critic MLPs (or one shared trunk) with a policy and a value head.
class ActorCriticImpl : public torch::nn::Module {
 public:
  ActorCriticImpl(int observation_size, int num_actions, const ModelOptions& options);

  PolicyOutput forward(const torch::Tensor& observations);
  // Samples with `rng`, or acts greedily when rng is null.
  ActOutput Act(const torch::Tensor& observations, const torch::Tensor& masks, Rng* rng);
  EvaluateOutput Evaluate(const torch::Tensor& observations, const torch::Tensor& masks,
                          const torch::Tensor& actions);
  torch::Tensor Value(const torch::Tensor& observations);

  int observation_size() const { return observation_size_; }
  int num_actions() const { return num_actions_; }
  const ModelOptions& options() const { return options_; }
  // The parts, for the inference fast path (agents/policy.cc).
  const Mlp& actor() const { return actor_; }  // the per-action scorer for a candidate scorer
  const Mlp& critic() const { return critic_; }  // null when shared_trunk
  const Mlp& context() const { return context_; }  // candidate scorer only
  const torch::nn::Linear& policy_head() const { return policy_head_; }
  const torch::nn::Linear& value_head() const { return value_head_; }

 private:
  torch::Tensor Logits(const torch::Tensor& observations);

  int observation_size_, num_actions_;
  ModelOptions options_;
  Mlp actor_{nullptr};   // the shared trunk when options_.shared_trunk
  Mlp critic_{nullptr};  // unset when options_.shared_trunk
  Mlp context_{nullptr};  // candidate scorer: the context over the non-action part
  torch::nn::Linear policy_head_{nullptr}, value_head_{nullptr};
};
TORCH_MODULE(ActorCritic);

// The DQN network: an MLP trunk, then Q = V + A - mean(A) (dueling) or a linear head.
class QNetworkImpl : public torch::nn::Module {
 public:
  QNetworkImpl(int observation_size, int num_actions, const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& observations);  // [B, A]

  int observation_size() const { return observation_size_; }
  int num_actions() const { return num_actions_; }
  const ModelOptions& options() const { return options_; }
  const Mlp& trunk() const { return trunk_; }
  const torch::nn::Linear& value_head() const { return value_head_; }          // dueling
  const torch::nn::Linear& advantage_head() const { return advantage_head_; }  // dueling
  const torch::nn::Linear& q_head() const { return q_head_; }                  // plain

 private:
  int observation_size_, num_actions_;
  ModelOptions options_;
  Mlp trunk_{nullptr};
  torch::nn::Linear value_head_{nullptr}, advantage_head_{nullptr}, q_head_{nullptr};
};
TORCH_MODULE(QNetwork);

// Copies every parameter and buffer of `from` into `to` (same architecture): target networks.
void CopyParameters(const torch::nn::Module& from, torch::nn::Module& to);
// to = tau * from + (1 - tau) * to, parameter by parameter.
void PolyakUpdate(const torch::nn::Module& from, torch::nn::Module& to, double tau);

// Tensors over caller-owned buffers (no copy), for the adapter between VecEnv arrays and nets.
torch::Tensor FloatTensor(const float* data, int64_t rows, int64_t cols);
// Masks as a bool tensor (a copy: the VecEnv buffer is overwritten by the next step).
torch::Tensor MaskTensor(const uint8_t* data, int64_t rows, int64_t cols);

}  // namespace eonops::agents
