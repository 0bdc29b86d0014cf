// Internal to agents/ (includes torch): Proximal Policy Optimisation with masked actions.
//
//   Ppo ppo(model, options.ppo, /*total_updates=*/n, /*seed=*/1);
//   ... fill a RolloutStorage, storage.ComputeReturns(...)
//   UpdateStats stats = ppo.Update(storage);
//
// One Update is `epochs` passes of `minibatches` shuffled minibatches over the rollout: clipped
// surrogate objective, (optionally clipped) value loss, entropy bonus, global gradient-norm
// clipping, Adam with a linear learning-rate decay over `total_updates`, and an optional early
// stop when the approximate KL to the rollout policy exceeds 1.5 x target_kl (as in SB3).
#pragma once

#include <torch/optim/adam.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agents/fused_mlp.h"
#include "agents/model.h"
#include "agents/options.h"
#include "agents/random.h"
#include "agents/rollout_storage.h"

namespace eonops::agents {

struct UpdateStats {
  double policy_loss = 0;
  double value_loss = 0;
  double entropy = 0;
  double approx_kl = 0;      // mean over the minibatch steps taken
  double clip_fraction = 0;  // share of samples whose ratio was clipped
  double explained_variance = 0;
  double learning_rate = 0;
  double grad_norm = 0;     // mean global norm before clipping
  int epochs = 0;           // epochs completed (fewer than options.epochs after an early stop)
  int minibatch_steps = 0;  // optimiser steps taken
  bool early_stopped = false;

  std::map<std::string, double> ToMetrics() const;  // "loss/policy", "train/approx_kl", ...
};

class Ppo {
 public:
  Ppo(ActorCritic model, const PpoOptions& options, int64_t total_updates, uint64_t seed);

  UpdateStats Update(RolloutStorage& storage);
  // The rate the next Update will use.
  double LearningRate() const;
  // Sets the rate to learning_rate x scale from now on, instead of the decay over
  // total_updates (the trainer drives it from its step schedule, agents/schedule.h).
  void SetLearningRateScale(double scale) { lr_scale_ = scale; }

  ActorCritic& model() { return model_; }
  torch::optim::Adam& optimizer() { return optimizer_; }
  Rng& rng() { return rng_; }
  int64_t updates_done() const { return updates_done_; }
  void set_updates_done(int64_t n) { updates_done_ = n; }
  // Called after each minibatch's backward pass, before gradient clipping, the early-stop test
  // and the optimiser step, with the minibatch's approximate KL: a data-parallel learner
  // averages the gradients and the KL across ranks there (agents/distributed.h), so that every
  // rank clips, steps and stops early alike.
  void set_after_backward(std::function<void(double* approx_kl)> hook) {
    after_backward_ = std::move(hook);
  }
  // Learner threads: each minibatch's forward and backward passes are split in
  // replicas.size() + 1 contiguous parts, run at once on this thread (the model) and one thread
  // per replica (a copy of the model's architecture, kept equal to it after every step); the
  // replicas' gradients are added to the model's before clipping and the step. The losses are
  // the same sums over the minibatch divided by its size, so the update is the single-thread
  // one up to the order of float additions. Empty: one thread, the minibatch's means.
  void SetLearnerReplicas(std::vector<ActorCritic> replicas);
  // The torch-free loops (agents/fused_mlp.h) for an architecture they support: on by default
  // there; off, every minibatch goes through torch's autograd (tests compare the two). With
  // them the replicas above only set the number of parts: the parts read the model's weights.
  void set_fused(bool on);
  // The fused network, or null when the model runs on torch (the trainer acts with it too).
  const FusedActorCritic* fused() const { return fused_.get(); }

 private:
  ActorCritic model_;
  PpoOptions options_;
  int64_t total_updates_;
  int64_t updates_done_ = 0;
  double lr_scale_ = -1;  // < 0: decay over total_updates_
  torch::optim::Adam optimizer_;
  // Rows [begin, end) of a minibatch of n on `model`: forward, losses, backward, and the figures
  // the update reports, each the part's share of the minibatch mean (clipped: a count).
  struct PartResult {
    double policy_loss = 0, value_loss = 0, entropy = 0, kl = 0, clipped = 0;
  };
  PartResult ForwardBackward(ActorCritic& model, const MiniBatch& mb, const torch::Tensor& advantages,
                             int64_t begin, int64_t end, int64_t n);

  std::unique_ptr<FusedActorCritic> fused_;
  std::vector<FusedActorCritic::Workspace> workspaces_;  // one per part
  std::vector<std::vector<float>> part_grads_;          // one per part

  // The same on the fused network: every part at once (this thread and one per replica), their
  // gradients summed into part_grads_[0].
  std::vector<PartResult> FusedForwardBackward(const MiniBatch& mb, const torch::Tensor& advantages, int64_t n,
                                               int64_t parts);

  Rng rng_;  // minibatch shuffling
  std::function<void(double*)> after_backward_;
  std::vector<ActorCritic> replicas_;
};

}  // namespace eonops::agents
