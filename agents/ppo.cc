#include "agents/ppo.h"

#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <stdexcept>

namespace eonops::agents {

std::map<std::string, double> UpdateStats::ToMetrics() const {
  return {{"loss/policy", policy_loss},
          {"loss/value", value_loss},
          {"loss/entropy", entropy},
          {"train/approx_kl", approx_kl},
          {"train/clip_fraction", clip_fraction},
          {"train/explained_variance", explained_variance},
          {"train/learning_rate", learning_rate},
          {"train/grad_norm", grad_norm},
          {"train/epochs", static_cast<double>(epochs)}};
}

Ppo::Ppo(ActorCritic model, const PpoOptions& options, int64_t total_updates, uint64_t seed)
    : model_(std::move(model)),
      options_(options),
      total_updates_(std::max<int64_t>(total_updates, 1)),
      optimizer_(model_->parameters(),
                 torch::optim::AdamOptions(options.learning_rate).eps(options.adam_epsilon)),
      rng_(seed) {}

double Ppo::LearningRate() const {
  if (lr_scale_ >= 0) return options_.learning_rate * lr_scale_;
  if (!options_.anneal_learning_rate) return options_.learning_rate;
  const double remaining =
      1.0 - static_cast<double>(std::min(updates_done_, total_updates_)) / total_updates_;
  return options_.learning_rate * remaining;
}

UpdateStats Ppo::Update(RolloutStorage& storage) {
  UpdateStats stats;
  stats.learning_rate = LearningRate();
  for (auto& group : optimizer_.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(stats.learning_rate);
  }
  {
    torch::NoGradGuard no_grad;
    torch::Tensor returns = storage.returns().flatten();
    torch::Tensor residual = returns - storage.values().flatten();
    double var = returns.var(/*unbiased=*/false).item<double>();
    stats.explained_variance =
        var == 0 ? 0.0 : 1.0 - residual.var(/*unbiased=*/false).item<double>() / var;
  }

  const std::vector<torch::Tensor> params = model_->parameters();
  int64_t samples = 0;
  double clipped = 0;
  for (int epoch = 0; epoch < options_.epochs && !stats.early_stopped; ++epoch) {
    for (const MiniBatch& mb : storage.MiniBatches(options_.minibatches, rng_)) {
      EvaluateOutput ev = model_->Evaluate(mb.observations, mb.masks, mb.actions);
      torch::Tensor log_ratio = ev.log_prob - mb.old_log_probs;
      torch::Tensor ratio = log_ratio.exp();
      double approx_kl;
      {
        torch::NoGradGuard no_grad;
        // The low-variance estimator k3 = (r - 1) - log r (Schulman, "Approximating KL").
        approx_kl = ((ratio - 1) - log_ratio).mean().item<double>();
        clipped += ((ratio - 1).abs() > options_.clip).sum().item<double>();
        samples += ratio.numel();
      }
      if (options_.target_kl > 0 && approx_kl > 1.5 * options_.target_kl) {
        stats.early_stopped = true;
        break;
      }

      torch::Tensor advantages = mb.advantages;
      if (options_.normalize_advantages && advantages.numel() > 1) {
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
      }
      torch::Tensor surrogate = advantages * ratio;
      torch::Tensor surrogate_clipped =
          advantages * ratio.clamp(1.0 - options_.clip, 1.0 + options_.clip);
      torch::Tensor policy_loss = -torch::min(surrogate, surrogate_clipped).mean();

      torch::Tensor value_loss;
      if (options_.clip_value) {
        torch::Tensor value_clipped =
            mb.old_values +
            (ev.value - mb.old_values).clamp(-options_.value_clip, options_.value_clip);
        value_loss =
            0.5 *
            torch::max((ev.value - mb.returns).pow(2), (value_clipped - mb.returns).pow(2)).mean();
      } else {
        value_loss = 0.5 * (ev.value - mb.returns).pow(2).mean();
      }
      torch::Tensor entropy = ev.entropy.mean();
      torch::Tensor loss =
          policy_loss + options_.value_coef * value_loss - options_.entropy_coef * entropy;

      optimizer_.zero_grad();
      loss.backward();
      double grad_norm;
      if (options_.max_grad_norm > 0) {
        grad_norm = torch::nn::utils::clip_grad_norm_(params, options_.max_grad_norm);
      } else {
        grad_norm = torch::nn::utils::clip_grad_norm_(params, 1e30);  // measures only
      }
      optimizer_.step();

      stats.policy_loss += policy_loss.item<double>();
      stats.value_loss += value_loss.item<double>();
      stats.entropy += entropy.item<double>();
      stats.approx_kl += approx_kl;
      stats.grad_norm += grad_norm;
      ++stats.minibatch_steps;
    }
    if (!stats.early_stopped) ++stats.epochs;
  }
  if (stats.minibatch_steps > 0) {
    const double n = stats.minibatch_steps;
    stats.policy_loss /= n;
    stats.value_loss /= n;
    stats.entropy /= n;
    stats.approx_kl /= n;
    stats.grad_norm /= n;
  }
  stats.clip_fraction = samples > 0 ? clipped / samples : 0.0;
  ++updates_done_;
  return stats;
}

}  // namespace eonops::agents
