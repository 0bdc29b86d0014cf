// Internal to agents/ (includes torch): DQN with masked actions, double Q-learning, a dueling
// head (ModelOptions::dueling), a replay buffer and a target network.
//
//   Dqn dqn(QNetwork(obs, actions, model_options), options.dqn, /*seed=*/1);
//   torch::Tensor greedy = dqn.Greedy(obs, masks);      // masked argmax
//   DqnUpdateStats s = dqn.Update(buffer, &normalizer); // gradient_steps minibatches
//
// Masks matter twice: acting never picks an infeasible action, and the bootstrap target takes
// its max (or, with double_q, the online network's argmax) over the next state's feasible
// actions only. The target network is copied every target_update_interval updates (tau == 1)
// or Polyak-averaged after every update (tau < 1). Exploration (epsilon) belongs to the trainer.
#pragma once

#include <torch/optim/adam.h>

#include <cstdint>
#include <map>
#include <string>

#include "agents/model.h"
#include "agents/options.h"
#include "agents/random.h"
#include "agents/replay_buffer.h"

namespace eonops::agents {

struct DqnUpdateStats {
  double loss = 0;       // Huber TD loss, mean over the gradient steps
  double q_mean = 0;     // mean Q(s, a) of the sampled actions
  double grad_norm = 0;  // before clipping
  double learning_rate = 0;
  int gradient_steps = 0;
  int target_syncs = 0;

  std::map<std::string, double> ToMetrics() const;
};

// r + gamma * (1 - done) * Q_target(s', a*), where a* is the masked argmax of Q_online(s')
// (double Q-learning) or of Q_target(s') itself. All inputs [B] or [B, A]; next_masks bool.
torch::Tensor DqnTargets(const torch::Tensor& next_q_online, const torch::Tensor& next_q_target,
                         const torch::Tensor& next_masks, const torch::Tensor& rewards,
                         const torch::Tensor& dones, float gamma, bool double_q);

class Dqn {
 public:
  Dqn(QNetwork online, const DqnOptions& options, uint64_t seed);

  // The greedy masked action for each row, [B] int64 (no gradient).
  torch::Tensor Greedy(const torch::Tensor& observations, const torch::Tensor& masks);
  DqnUpdateStats Update(const ReplayBuffer& buffer, const RunningNormalizer* normalizer);

  QNetwork& online() { return online_; }
  QNetwork& target() { return target_; }
  torch::optim::Adam& optimizer() { return optimizer_; }
  Rng& rng() { return rng_; }
  int64_t updates_done() const { return updates_done_; }
  void set_updates_done(int64_t n) { updates_done_ = n; }

 private:
  QNetwork online_, target_;
  DqnOptions options_;
  torch::optim::Adam optimizer_;
  Rng rng_;  // minibatch sampling
  int64_t updates_done_ = 0;
  ReplayBuffer::Batch batch_;  // reused between updates
};

}  // namespace eonops::agents
