#include "agents/rollout_storage.h"

#include <stdexcept>

namespace eonops::agents {

RolloutStorage::RolloutStorage(int num_steps, int num_envs, int observation_size, int num_actions)
    : num_steps_(num_steps),
      num_envs_(num_envs),
      observation_size_(observation_size),
      num_actions_(num_actions) {
  if (num_steps <= 0 || num_envs <= 0 || observation_size <= 0 || num_actions <= 0) {
    throw std::invalid_argument("RolloutStorage: every size must be positive");
  }
  observations_ = torch::zeros({num_steps, num_envs, observation_size});
  masks_ = torch::zeros({num_steps, num_envs, num_actions}, torch::kBool);
  actions_ = torch::zeros({num_steps, num_envs}, torch::kLong);
  log_probs_ = torch::zeros({num_steps, num_envs});
  values_ = torch::zeros({num_steps, num_envs});
  rewards_ = torch::zeros({num_steps, num_envs});
  dones_ = torch::zeros({num_steps, num_envs});
  returns_ = torch::zeros({num_steps, num_envs});
  advantages_ = torch::zeros({num_steps, num_envs});
}

void RolloutStorage::Insert(int step, const torch::Tensor& observations, const torch::Tensor& masks,
                            const ActOutput& act, const float* rewards, const uint8_t* dones) {
  if (step < 0 || step >= num_steps_) throw std::out_of_range("RolloutStorage::Insert: step");
  torch::NoGradGuard no_grad;
  observations_[step].copy_(observations);
  masks_[step].copy_(masks);
  actions_[step].copy_(act.action);
  log_probs_[step].copy_(act.log_prob);
  values_[step].copy_(act.value);
  auto r = rewards_.accessor<float, 2>();
  auto d = dones_.accessor<float, 2>();
  for (int i = 0; i < num_envs_; ++i) {
    r[step][i] = rewards[i];
    d[step][i] = dones[i] ? 1.0f : 0.0f;
  }
}

void RolloutStorage::ComputeReturns(const torch::Tensor& last_value, float gamma,
                                    float gae_lambda) {
  torch::Tensor last = last_value.detach().to(torch::kFloat).contiguous();
  if (last.numel() != num_envs_) throw std::invalid_argument("ComputeReturns: last_value size");
  auto v = values_.accessor<float, 2>();
  auto r = rewards_.accessor<float, 2>();
  auto d = dones_.accessor<float, 2>();
  auto adv = advantages_.accessor<float, 2>();
  auto ret = returns_.accessor<float, 2>();
  const float* lv = last.data_ptr<float>();
  for (int i = 0; i < num_envs_; ++i) {
    double gae = 0.0;
    for (int t = num_steps_ - 1; t >= 0; --t) {
      const double next_value = t == num_steps_ - 1 ? lv[i] : v[t + 1][i];
      const double not_done = 1.0 - d[t][i];
      const double delta = r[t][i] + gamma * next_value * not_done - v[t][i];
      gae = delta + gamma * gae_lambda * not_done * gae;
      adv[t][i] = static_cast<float>(gae);
      ret[t][i] = static_cast<float>(gae + v[t][i]);
    }
  }
}

std::vector<MiniBatch> RolloutStorage::MiniBatches(int num_minibatches, Rng& rng) const {
  const int64_t total = static_cast<int64_t>(num_steps_) * num_envs_;
  if (num_minibatches <= 0 || num_minibatches > total) {
    throw std::invalid_argument("RolloutStorage::MiniBatches: need 1 to " + std::to_string(total) +
                                " minibatches, got " + std::to_string(num_minibatches));
  }
  std::vector<int64_t> order(total);
  for (int64_t k = 0; k < total; ++k) order[k] = k;
  Shuffle(order, rng);
  torch::Tensor perm = torch::from_blob(order.data(), {total}, torch::kLong).clone();

  torch::Tensor obs = observations_.view({total, observation_size_});
  torch::Tensor masks = masks_.view({total, num_actions_});
  torch::Tensor actions = actions_.view({total});
  torch::Tensor log_probs = log_probs_.view({total});
  torch::Tensor values = values_.view({total});
  torch::Tensor returns = returns_.view({total});
  torch::Tensor advantages = advantages_.view({total});

  std::vector<MiniBatch> batches;
  batches.reserve(num_minibatches);
  for (int b = 0; b < num_minibatches; ++b) {
    const int64_t begin = total * b / num_minibatches, end = total * (b + 1) / num_minibatches;
    torch::Tensor idx = perm.slice(0, begin, end);
    batches.push_back({obs.index_select(0, idx), masks.index_select(0, idx),
                       actions.index_select(0, idx), log_probs.index_select(0, idx),
                       values.index_select(0, idx), returns.index_select(0, idx),
                       advantages.index_select(0, idx)});
  }
  return batches;
}

}  // namespace eonops::agents
