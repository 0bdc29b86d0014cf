#include "agents/ppo.h"

#include <ATen/Parallel.h>
#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

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
      rng_(seed) {
  set_fused(options.fused);
}

void Ppo::set_fused(bool on) {
  fused_.reset();
  if (on && FusedActorCritic::Supports(model_->options())) fused_ = std::make_unique<FusedActorCritic>(model_);
}

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
  // The replicas start every update equal to the model (it may have been loaded or warm-started
  // since the last one).
  if (!fused_) {
    for (auto& r : replicas_) CopyParameters(*model_, *r);
  }
  const int64_t parts = static_cast<int64_t>(replicas_.size()) + 1;
  if (fused_) {
    workspaces_.resize(static_cast<size_t>(parts));
    part_grads_.resize(static_cast<size_t>(parts));
    for (auto& g : part_grads_) g.resize(static_cast<size_t>(fused_->num_parameters()));
  }
  int64_t samples = 0;
  double clipped = 0;
  for (int epoch = 0; epoch < options_.epochs && !stats.early_stopped; ++epoch) {
    for (const MiniBatch& mb : storage.MiniBatches(options_.minibatches, rng_)) {
      // The advantages are normalised over the whole minibatch, whichever thread takes which rows.
      torch::Tensor advantages = mb.advantages;
      if (options_.normalize_advantages && advantages.numel() > 1) {
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
      }
      const int64_t n = mb.actions.size(0);
      std::vector<PartResult> results(static_cast<size_t>(parts));
      if (fused_) {
        results = FusedForwardBackward(mb, advantages.contiguous(), n, parts);
      } else if (parts == 1) {
        optimizer_.zero_grad();
        results[0] = ForwardBackward(model_, mb, advantages, 0, n, n);
      } else {
        optimizer_.zero_grad();
        for (auto& r : replicas_) r->zero_grad();
        std::vector<std::thread> threads;
        std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
        auto bounds = [&](int64_t i) { return std::make_pair(n * i / parts, n * (i + 1) / parts); };
        const int intra_op = at::get_num_threads();
        for (int64_t i = 1; i < parts; ++i) {
          threads.emplace_back([&, i] {
            try {
              // A new thread starts with OpenMP's default team size (every core), not the
              // trainer's: without this each part would run its own 2-thread teams.
              at::set_num_threads(intra_op);
              const auto [b, e] = bounds(i);
              results[i] = ForwardBackward(replicas_[i - 1], mb, advantages, b, e, n);
            } catch (...) {
              errors[i] = std::current_exception();
            }
          });
        }
        try {
          const auto [b, e] = bounds(0);
          results[0] = ForwardBackward(model_, mb, advantages, b, e, n);
        } catch (...) {
          errors[0] = std::current_exception();
        }
        for (auto& t : threads) t.join();
        for (const auto& e : errors)
          if (e) std::rethrow_exception(e);
        torch::NoGradGuard no_grad;
        for (const auto& r : replicas_) {
          const std::vector<torch::Tensor> rp = r->parameters();
          for (size_t k = 0; k < params.size(); ++k) {
            if (!rp[k].grad().defined()) continue;
            if (params[k].grad().defined()) {
              params[k].mutable_grad().add_(rp[k].grad());
            } else {
              params[k].mutable_grad() = rp[k].grad().clone();
            }
          }
        }
      }
      double approx_kl = 0, policy_loss_value = 0, value_loss_value = 0, entropy_value = 0;
      for (const PartResult& r : results) {
        approx_kl += r.kl;
        clipped += r.clipped;
        policy_loss_value += r.policy_loss;
        value_loss_value += r.value_loss;
        entropy_value += r.entropy;
      }
      samples += n;
      // The fused path keeps the gradient in its own buffer unless a data-parallel hook must
      // see it in the parameters' .grad tensors.
      const bool fused_step = fused_ && !after_backward_;
      if (fused_ && !fused_step) fused_->CopyGradientsTo(part_grads_[0].data());
      if (after_backward_) after_backward_(&approx_kl);
      // The early stop looks at the KL before this minibatch's step (its gradient is dropped).
      if (options_.target_kl > 0 && approx_kl > 1.5 * options_.target_kl) {
        stats.early_stopped = true;
        break;
      }
      double grad_norm;
      if (fused_step) {
        grad_norm = ClipGradientNorm(part_grads_[0].data(), fused_->num_parameters(), options_.max_grad_norm);
        fused_->AdamStep(optimizer_, part_grads_[0].data());
      } else {
        if (options_.max_grad_norm > 0) {
          grad_norm = torch::nn::utils::clip_grad_norm_(params, options_.max_grad_norm);
        } else {
          grad_norm = torch::nn::utils::clip_grad_norm_(params, 1e30);  // measures only
        }
        optimizer_.step();
      }
      if (!fused_) {
        for (auto& r : replicas_) CopyParameters(*model_, *r);
      }

      stats.policy_loss += policy_loss_value;
      stats.value_loss += value_loss_value;
      stats.entropy += entropy_value;
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

void Ppo::SetLearnerReplicas(std::vector<ActorCritic> replicas) {
  replicas_ = std::move(replicas);
  for (auto& r : replicas_) CopyParameters(*model_, *r);
}

std::vector<Ppo::PartResult> Ppo::FusedForwardBackward(const MiniBatch& mb, const torch::Tensor& advantages,
                                                      int64_t n, int64_t parts) {
  FusedActorCritic::Batch batch;
  batch.observations = mb.observations.data_ptr<float>();
  batch.masks = mb.masks.data_ptr<bool>();
  batch.actions = mb.actions.data_ptr<int64_t>();
  batch.old_log_probs = mb.old_log_probs.data_ptr<float>();
  batch.old_values = mb.old_values.data_ptr<float>();
  batch.returns = mb.returns.data_ptr<float>();
  batch.advantages = advantages.data_ptr<float>();
  std::vector<PartResult> results(static_cast<size_t>(parts));
  // The parts only read the model and write their own buffers and workspaces. A workspace
  // grows on its first use (an allocation that may fail): errors come back to this thread.
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  auto run = [&](int64_t i) {
    try {
      const FusedActorCritic::PartLoss loss =
          fused_->ForwardBackward(batch, n * i / parts, n * (i + 1) / parts, n, options_,
                                  part_grads_[i].data(), workspaces_[i]);
      results[i] = {loss.policy_loss, loss.value_loss, loss.entropy, loss.kl, loss.clipped};
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t i = 1; i < parts; ++i) threads.emplace_back(run, i);
  run(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  std::vector<float>& sum = part_grads_[0];
  for (int64_t i = 1; i < parts; ++i) {
    const std::vector<float>& g = part_grads_[i];
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += g[k];
  }
  return results;
}

Ppo::PartResult Ppo::ForwardBackward(ActorCritic& model, const MiniBatch& mb, const torch::Tensor& advantages,
                                     int64_t begin, int64_t end, int64_t n) {
  PartResult out;
  if (end <= begin) return out;
  const int64_t len = end - begin;
  // The whole minibatch: its means, as one thread always computed them. A part: its sums over
  // the minibatch size, so that the parts' losses and gradients add up to those means.
  const bool whole = begin == 0 && end == n;
  const double inv_n = 1.0 / static_cast<double>(n);
  auto reduce = [&](const torch::Tensor& t) { return whole ? t.mean() : t.sum() * inv_n; };
  auto rows = [&](const torch::Tensor& t) { return whole ? t : t.narrow(0, begin, len); };
  EvaluateOutput ev = model->Evaluate(rows(mb.observations), rows(mb.masks), rows(mb.actions));
  torch::Tensor log_ratio = ev.log_prob - rows(mb.old_log_probs);
  torch::Tensor ratio = log_ratio.exp();
  {
    torch::NoGradGuard no_grad;
    // The low-variance estimator k3 = (r - 1) - log r (Schulman, "Approximating KL").
    out.kl = reduce((ratio - 1) - log_ratio).item<double>();
    out.clipped = ((ratio - 1).abs() > options_.clip).sum().item<double>();
  }
  torch::Tensor adv = rows(advantages);
  torch::Tensor surrogate = adv * ratio;
  torch::Tensor surrogate_clipped = adv * ratio.clamp(1.0 - options_.clip, 1.0 + options_.clip);
  torch::Tensor policy_loss = -reduce(torch::min(surrogate, surrogate_clipped));
  torch::Tensor old_values = rows(mb.old_values), returns = rows(mb.returns);
  torch::Tensor value_loss;
  if (options_.clip_value) {
    torch::Tensor value_clipped =
        old_values + (ev.value - old_values).clamp(-options_.value_clip, options_.value_clip);
    value_loss = 0.5 * reduce(torch::max((ev.value - returns).pow(2), (value_clipped - returns).pow(2)));
  } else {
    value_loss = 0.5 * reduce((ev.value - returns).pow(2));
  }
  torch::Tensor entropy = reduce(ev.entropy);
  torch::Tensor loss = policy_loss + options_.value_coef * value_loss - options_.entropy_coef * entropy;
  loss.backward();
  out.policy_loss = policy_loss.item<double>();
  out.value_loss = value_loss.item<double>();
  out.entropy = entropy.item<double>();
  return out;
}

}  // namespace eonops::agents
