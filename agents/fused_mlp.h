// Internal to agents/ (includes torch): PPO's hot loops over the MLP actor-critic in plain
// loops and BLAS calls instead of one torch operation per layer.
//
// Why: on DeepRMSA's 3 x 128 networks a minibatch part is ~1.4 ms of matrix products but took
// ~3 ms through torch (operator dispatch, autograd's graph, a tensor allocated per result:
// libtorch itself was 26% of a training run's samples, Sleef's tanh 11%). Here the forward
// pass keeps each layer's activations, the backward pass is written out (tanh' = 1 - y^2, the
// masked log-softmax, the clipped surrogate and value losses, the entropy bonus), and the
// matrix products go to the system BLAS (cblas_sgemm: OpenBLAS, the library torch uses too).
//
//   FusedActorCritic fused(model);               // reads model's parameters at every call
//   FusedActorCritic::Workspace ws;               // scratch, one per thread
//   fused.Act(obs, masks, rows, rng, actions, log_probs, values, ws);      // rollout
//   fused.ForwardBackward(batch, begin, end, n, options, grads, ws);      // one minibatch part
//
// What it computes is what ActorCriticImpl::Act / Ppo's torch loss computes, to float rounding
// (tests/agents/fused_mlp_test.cc compares logits, values, losses and every gradient with
// torch's autograd). Only the architecture Supports() names: an MLP actor with its own MLP
// critic; the candidate scorer and the shared trunk stay on torch.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/optim/adam.h>

#include "agents/model.h"
#include "agents/options.h"
#include "agents/random.h"

namespace eonops::agents {

// tanh for a whole array, vectorisable (no libm call per element), within 2e-7 of std::tanh.
void TanhInPlace(float* x, int64_t n);
// x = activation(x), element-wise: what the MLP layers compute, here and in the exported
// policy's inference path (agents/policy.cc), so a served policy computes what was trained.
void ActivateInPlace(Activation activation, float* x, int64_t n);

// Scales a gradient buffer as torch::nn::utils::clip_grad_norm_ does (by max_norm / (norm +
// 1e-6) when that is below 1; max_norm <= 0 only measures) and returns the norm before.
double ClipGradientNorm(float* grads, int64_t n, double max_norm);

class FusedActorCritic {
 public:
  static bool Supports(const ModelOptions& options);

  // The model must outlive this object; its parameters are read (and may change) between calls.
  explicit FusedActorCritic(ActorCritic model);

  // Per-thread scratch: every layer's activations and their gradients for up to `rows` rows.
  struct Workspace {
    int64_t rows = 0;
    std::vector<std::vector<float>> actor, critic;  // hidden activations per layer
    std::vector<float> logits, values, d_logits, d_values, d_hidden, d_prev;
    std::vector<float> probs, log_probs;
    std::vector<double> act_probs;  // Act's sampling probabilities
  };

  // One minibatch, as raw rows (RolloutStorage's MiniBatch tensors' data).
  struct Batch {
    const float* observations = nullptr;  // [n, obs]
    const bool* masks = nullptr;          // [n, A]
    const int64_t* actions = nullptr;     // [n]
    const float* old_log_probs = nullptr, *old_values = nullptr, *returns = nullptr;
    const float* advantages = nullptr;  // [n], already normalised when the options say so
  };

  // Figures of a part, each its share of the minibatch mean (clipped: a count), as
  // Ppo::ForwardBackward reports them.
  struct PartLoss {
    double policy_loss = 0, value_loss = 0, entropy = 0, kl = 0, clipped = 0;
  };

  int num_parameters() const { return total_; }  // floats in a gradient buffer
  int observation_size() const { return observation_size_; }
  int num_actions() const { return num_actions_; }

  // Samples an action per row with `rng` as MaskedCategorical::Sample does (inverse CDF over
  // the feasible actions, in double), and writes its log-probability and the critic's value.
  void Act(const float* observations, const bool* masks, int64_t rows, Rng& rng, int64_t* actions,
           float* log_probs, float* values, Workspace& ws) const;

  // Rows [begin, end) of a minibatch of n: PPO's loss (Ppo::ForwardBackward's terms) and its
  // gradient with respect to every parameter, written (not added) into `grads`
  // (num_parameters() floats, in the order CopyGradientsTo uses).
  PartLoss ForwardBackward(const Batch& batch, int64_t begin, int64_t end, int64_t n,
                           const PpoOptions& options, float* grads, Workspace& ws) const;

  // One step of `optimizer` (an Adam over this model's parameters) with a gradient buffer:
  // torch's Adam update, read from and written to the optimiser's own per-parameter state (so
  // checkpoints and torch's step see the same moments and step count), without a torch
  // operation per tensor. Adam's amsgrad is not supported (std::invalid_argument).
  void AdamStep(torch::optim::Adam& optimizer, const float* grads) const;

  // Writes a gradient buffer into the parameters' .grad tensors (defining them if needed), so
  // that gradient clipping, data-parallel averaging and the optimiser see it as autograd's.
  void CopyGradientsTo(const float* grads) const;

 private:
  struct Layer {
    torch::Tensor weight, bias;  // [out, in], [out]
    int in = 0, out = 0;
    int offset = 0;  // of the weight's gradient in a buffer; the bias's follows it
  };
  void Forward(const float* observations, int64_t rows, Workspace& ws) const;
  // fn(parameter, offset of its gradient in a buffer) for every weight and bias, in buffer order.
  template <typename Fn>
  void ForEachParameter(Fn&& fn) const;
  static void Prepare(Workspace& ws, int64_t rows, const std::vector<Layer>& actor,
                      const std::vector<Layer>& critic, int num_actions);

  ActorCritic model_;
  Activation activation_;
  int observation_size_ = 0, num_actions_ = 0, total_ = 0;
  std::vector<Layer> actor_, critic_;  // each ends with its head (policy: A outputs, value: 1)
};

}  // namespace eonops::agents
