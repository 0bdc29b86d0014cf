#include "agents/dqn.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>

namespace eonops::agents {

std::map<std::string, double> DqnUpdateStats::ToMetrics() const {
  return {{"loss/td", loss},
          {"train/q_mean", q_mean},
          {"train/grad_norm", grad_norm},
          {"train/learning_rate", learning_rate},
          {"train/target_syncs", static_cast<double>(target_syncs)}};
}

torch::Tensor DqnTargets(const torch::Tensor& next_q_online, const torch::Tensor& next_q_target,
                         const torch::Tensor& next_masks, const torch::Tensor& rewards,
                         const torch::Tensor& dones, float gamma, bool double_q) {
  torch::Tensor chooser = double_q ? next_q_online : next_q_target;
  torch::Tensor best = MaskedArgmax(chooser, next_masks);  // finite even with no feasible action
  torch::Tensor next_value = next_q_target.gather(1, best.unsqueeze(1)).squeeze(1);
  return rewards + gamma * (1.0f - dones) * next_value;
}

Dqn::Dqn(QNetwork online, const DqnOptions& options, uint64_t seed)
    : online_(std::move(online)),
      target_(online_->observation_size(), online_->num_actions(), online_->options()),
      options_(options),
      optimizer_(online_->parameters(),
                 torch::optim::AdamOptions(options.learning_rate).eps(options.adam_epsilon)),
      rng_(seed) {
  CopyParameters(*online_, *target_);
  for (auto& p : target_->parameters()) p.set_requires_grad(false);
}

torch::Tensor Dqn::Greedy(const torch::Tensor& observations, const torch::Tensor& masks) {
  torch::NoGradGuard no_grad;
  return MaskedArgmax(online_->forward(observations), masks);
}

DqnUpdateStats Dqn::Update(const ReplayBuffer& buffer, const RunningNormalizer* normalizer) {
  DqnUpdateStats stats;
  stats.learning_rate = options_.learning_rate;
  const std::vector<torch::Tensor> params = online_->parameters();
  const int64_t n = buffer.observation_size(), a = buffer.num_actions();
  for (int step = 0; step < options_.gradient_steps; ++step) {
    buffer.Sample(options_.batch_size, rng_, normalizer, &batch_);
    const int64_t b = batch_.size;
    torch::Tensor obs = FloatTensor(batch_.observations.data(), b, n);
    torch::Tensor next_obs = FloatTensor(batch_.next_observations.data(), b, n);
    torch::Tensor next_masks = MaskTensor(batch_.next_masks.data(), b, a);
    torch::Tensor actions = torch::from_blob(batch_.actions.data(), {b}, torch::kLong);
    torch::Tensor rewards = torch::from_blob(batch_.rewards.data(), {b}, torch::kFloat32);
    torch::Tensor dones = torch::from_blob(batch_.dones.data(), {b}, torch::kFloat32);

    torch::Tensor targets;
    {
      torch::NoGradGuard no_grad;
      torch::Tensor next_online = options_.double_q ? online_->forward(next_obs) : torch::Tensor();
      targets = DqnTargets(next_online, target_->forward(next_obs), next_masks, rewards, dones,
                           options_.gamma, options_.double_q);
    }
    torch::Tensor q = online_->forward(obs).gather(1, actions.unsqueeze(1)).squeeze(1);
    torch::Tensor loss = torch::nn::functional::smooth_l1_loss(q, targets);

    optimizer_.zero_grad();
    loss.backward();
    const double max_norm = options_.max_grad_norm > 0 ? options_.max_grad_norm : 1e30;
    stats.grad_norm += torch::nn::utils::clip_grad_norm_(params, max_norm);
    optimizer_.step();

    ++updates_done_;
    if (options_.tau < 1.0f) {
      PolyakUpdate(*online_, *target_, options_.tau);
      ++stats.target_syncs;
    } else if (updates_done_ % options_.target_update_interval == 0) {
      CopyParameters(*online_, *target_);
      ++stats.target_syncs;
    }
    stats.loss += loss.item<double>();
    stats.q_mean += q.mean().item<double>();
    ++stats.gradient_steps;
  }
  if (stats.gradient_steps > 0) {
    stats.loss /= stats.gradient_steps;
    stats.q_mean /= stats.gradient_steps;
    stats.grad_norm /= stats.gradient_steps;
  }
  return stats;
}

}  // namespace eonops::agents
