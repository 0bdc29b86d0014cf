#include <dlfcn.h>

#include "agents/model.h"

#include <ATen/Parallel.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "agents/policy.h"

namespace eonops::agents {

namespace {

void InitLinear(torch::nn::LinearImpl& layer, bool orthogonal, double gain) {
  if (!orthogonal) return;  // torch's default (Kaiming-uniform) initialisation
  torch::NoGradGuard no_grad;
  torch::nn::init::orthogonal_(layer.weight, gain);
  torch::nn::init::zeros_(layer.bias);
}

torch::Tensor Activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kTanh:
      return torch::tanh(x);
    case Activation::kRelu:
      return torch::relu(x);
    case Activation::kElu:
      return torch::elu(x);
    case Activation::kLeakyRelu:
      return torch::leaky_relu(x, 0.01);
  }
  return x;
}

void CheckSizes(int observation_size, int num_actions) {
  if (observation_size <= 0)
    throw std::invalid_argument("model: observation_size must be positive");
  if (num_actions <= 0) throw std::invalid_argument("model: num_actions must be positive");
}

}  // namespace

MlpImpl::MlpImpl(int in_features, const std::vector<int>& hidden_sizes, Activation activation,
                 bool orthogonal_init)
    : activation_(activation), out_features_(in_features) {
  // No hidden layer: the identity (a candidate scorer's linear head then reads the features).
  int in = in_features;
  for (size_t i = 0; i < hidden_sizes.size(); ++i) {
    torch::nn::Linear layer(in, hidden_sizes[i]);
    register_module("fc" + std::to_string(i), layer);
    InitLinear(*layer, orthogonal_init, std::sqrt(2.0));
    layers_.push_back(layer);
    in = hidden_sizes[i];
  }
  out_features_ = in;
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  for (auto& layer : layers_) x = Activate(layer->forward(x), activation_);
  return x;
}

MaskedCategorical::MaskedCategorical(const torch::Tensor& logits, const torch::Tensor& mask)
    : mask_(mask) {
  TORCH_CHECK(logits.dim() == 2 && mask.sizes() == logits.sizes(), "MaskedCategorical: logits ",
              logits.sizes(), " and mask ", mask.sizes(), " must both be [batch, actions]");
  TORCH_CHECK(mask.scalar_type() == torch::kBool, "MaskedCategorical: mask must be bool");
  // A row with no feasible action has every logit replaced by the same constant: uniform over
  // all actions, no gradient (whatever is chosen is blocked), and sampling may pick any action.
  log_probs_ = torch::log_softmax(logits.masked_fill(mask.logical_not(), kMaskedLogit), 1);
  probs_ = log_probs_.exp();
  mask_ = mask.logical_or(mask.any(/*dim=*/1, /*keepdim=*/true).logical_not());
}

torch::Tensor MaskedCategorical::Sample(Rng& rng) const {
  torch::Tensor p = probs_.detach().to(torch::kDouble).contiguous();
  torch::Tensor m = mask_.contiguous();
  const int64_t rows = p.size(0), cols = p.size(1);
  torch::Tensor out = torch::empty({rows}, torch::kLong);
  auto pa = p.accessor<double, 2>();
  auto ma = m.accessor<bool, 2>();
  auto oa = out.accessor<int64_t, 1>();
  for (int64_t b = 0; b < rows; ++b) {
    double total = 0.0;
    int64_t last = -1;
    for (int64_t a = 0; a < cols; ++a) {
      if (ma[b][a]) total += pa[b][a], last = a;
    }
    const double target = Uniform01(rng) * total;
    int64_t chosen = last;  // if rounding leaves target >= the running sum
    double cumulative = 0.0;
    for (int64_t a = 0; a < cols; ++a) {
      if (!ma[b][a]) continue;
      cumulative += pa[b][a];
      if (target < cumulative) {
        chosen = a;
        break;
      }
    }
    oa[b] = chosen;
  }
  return out;
}

torch::Tensor MaskedCategorical::Mode() const { return MaskedArgmax(log_probs_.detach(), mask_); }

torch::Tensor MaskedCategorical::LogProb(const torch::Tensor& actions) const {
  return log_probs_.gather(1, actions.to(torch::kLong).unsqueeze(1)).squeeze(1);
}

torch::Tensor MaskedCategorical::Entropy() const { return -(probs_ * log_probs_).sum(1); }

torch::Tensor MaskedArgmax(const torch::Tensor& values, const torch::Tensor& mask) {
  return values.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity()).argmax(1);
}

ActorCriticImpl::ActorCriticImpl(int observation_size, int num_actions, const ModelOptions& options)
    : observation_size_(observation_size), num_actions_(num_actions), options_(options) {
  CheckSizes(observation_size, num_actions);
  if (options.policy == PolicyArchitecture::kCandidateScorer) {
    const int f = options.action_features_size, off = options.action_features_offset;
    if (f <= 0 || off <= 0 || off + static_cast<int64_t>(num_actions - 1) * f != observation_size) {
      throw std::invalid_argument("candidate scorer: action features (offset " + std::to_string(off) + ", " +
                                  std::to_string(f) + " per action) do not fill the observation of " +
                                  std::to_string(observation_size) + " for " + std::to_string(num_actions) +
                                  " actions");
    }
    if (options.prior_feature >= f) throw std::invalid_argument("candidate scorer: prior_feature out of range");
    int context_width = 0;
    if (!options.context_hidden_sizes.empty()) {
      context_ = register_module("context", Mlp(off, options.context_hidden_sizes, options.activation,
                                                options.orthogonal_init));
      context_width = context_->out_features();
    }
    actor_ = register_module("actor", Mlp(f + context_width, options.scorer_hidden_sizes, options.activation,
                                          options.orthogonal_init));
    critic_ = register_module("critic", Mlp(observation_size, options.hidden_sizes, options.activation,
                                            options.orthogonal_init));
    policy_head_ = register_module("policy_head", torch::nn::Linear(actor_->out_features(), 1));
    value_head_ = register_module("value_head", torch::nn::Linear(critic_->out_features(), 1));
    // The scorer starts at exactly zero, so the first policy is the prior's.
    {
      torch::NoGradGuard no_grad;
      policy_head_->weight.zero_();
      policy_head_->bias.zero_();
    }
    InitLinear(*value_head_, options.orthogonal_init, 1.0);
    return;
  }
  actor_ = register_module("actor", Mlp(observation_size, options.hidden_sizes, options.activation,
                                        options.orthogonal_init));
  if (!options.shared_trunk) {
    critic_ = register_module("critic", Mlp(observation_size, options.hidden_sizes,
                                            options.activation, options.orthogonal_init));
  }
  const int width = actor_->out_features();
  policy_head_ = register_module("policy_head", torch::nn::Linear(width, num_actions));
  value_head_ = register_module("value_head", torch::nn::Linear(width, 1));
  // Small policy-head weights start near-uniform over the feasible actions (CleanRL, SB3).
  InitLinear(*policy_head_, options.orthogonal_init, 0.01);
  InitLinear(*value_head_, options.orthogonal_init, 1.0);
}

torch::Tensor ActorCriticImpl::Logits(const torch::Tensor& observations) {
  if (options_.policy != PolicyArchitecture::kCandidateScorer) {
    return policy_head_->forward(actor_->forward(observations));
  }
  const int64_t batch = observations.size(0), actions = num_actions_ - 1;
  const int64_t f = options_.action_features_size, off = options_.action_features_offset;
  torch::Tensor features = observations.narrow(1, off, actions * f).reshape({batch, actions, f});
  torch::Tensor x = features;
  if (context_) {
    torch::Tensor context = context_->forward(observations.narrow(1, 0, off));  // [B, C]
    x = torch::cat({features, context.unsqueeze(1).expand({batch, actions, context.size(1)})}, 2);
  }
  torch::Tensor scores = policy_head_->forward(actor_->forward(x)).squeeze(-1);      // [B, A-1]
  if (options_.prior_scale != 0.0f) {
    scores = scores + options_.prior_scale * features.select(2, options_.prior_feature);
  }
  return torch::cat({scores, torch::zeros({batch, 1}, scores.options())}, 1);  // reject: 0
}

PolicyOutput ActorCriticImpl::forward(const torch::Tensor& observations) {
  if (options_.policy == PolicyArchitecture::kCandidateScorer) {
    return {Logits(observations), value_head_->forward(critic_->forward(observations)).squeeze(-1)};
  }
  torch::Tensor h = actor_->forward(observations);
  torch::Tensor logits = policy_head_->forward(h);
  torch::Tensor value =
      value_head_->forward(options_.shared_trunk ? h : critic_->forward(observations));
  return {logits, value.squeeze(-1)};
}

ActOutput ActorCriticImpl::Act(const torch::Tensor& observations, const torch::Tensor& masks,
                               Rng* rng) {
  PolicyOutput out = forward(observations);
  MaskedCategorical dist(out.logits, masks);
  torch::Tensor action = rng ? dist.Sample(*rng) : dist.Mode();
  return {action, dist.LogProb(action), out.value};
}

EvaluateOutput ActorCriticImpl::Evaluate(const torch::Tensor& observations,
                                         const torch::Tensor& masks, const torch::Tensor& actions) {
  PolicyOutput out = forward(observations);
  MaskedCategorical dist(out.logits, masks);
  return {dist.LogProb(actions), dist.Entropy(), out.value};
}

torch::Tensor ActorCriticImpl::Value(const torch::Tensor& observations) {
  if (options_.shared_trunk) return value_head_->forward(actor_->forward(observations)).squeeze(-1);
  return value_head_->forward(critic_->forward(observations)).squeeze(-1);
}

QNetworkImpl::QNetworkImpl(int observation_size, int num_actions, const ModelOptions& options)
    : observation_size_(observation_size), num_actions_(num_actions), options_(options) {
  CheckSizes(observation_size, num_actions);
  trunk_ = register_module("trunk", Mlp(observation_size, options.hidden_sizes, options.activation,
                                        options.orthogonal_init));
  const int width = trunk_->out_features();
  if (options.dueling) {
    value_head_ = register_module("value_head", torch::nn::Linear(width, 1));
    advantage_head_ = register_module("advantage_head", torch::nn::Linear(width, num_actions));
    InitLinear(*value_head_, options.orthogonal_init, 1.0);
    InitLinear(*advantage_head_, options.orthogonal_init, 1.0);
  } else {
    q_head_ = register_module("q_head", torch::nn::Linear(width, num_actions));
    InitLinear(*q_head_, options.orthogonal_init, 1.0);
  }
}

torch::Tensor QNetworkImpl::forward(const torch::Tensor& observations) {
  torch::Tensor h = trunk_->forward(observations);
  if (!options_.dueling) return q_head_->forward(h);
  torch::Tensor advantage = advantage_head_->forward(h);
  // Subtracting the mean advantage makes V and A identifiable (Wang et al., 2016).
  return value_head_->forward(h) + advantage - advantage.mean(1, /*keepdim=*/true);
}

void CopyParameters(const torch::nn::Module& from, torch::nn::Module& to) {
  PolyakUpdate(from, to, 1.0);
}

void PolyakUpdate(const torch::nn::Module& from, torch::nn::Module& to, double tau) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters(/*recurse=*/true);
  auto target = to.named_parameters(/*recurse=*/true);
  TORCH_CHECK(source.size() == target.size(), "PolyakUpdate: different architectures");
  for (const auto& item : source) {
    torch::Tensor* t = target.find(item.key());
    TORCH_CHECK(t != nullptr && t->sizes() == item.value().sizes(),
                "PolyakUpdate: no matching parameter ", item.key());
    if (tau >= 1.0) {
      t->copy_(item.value());
    } else {
      t->mul_(1.0 - tau).add_(item.value(), tau);
    }
  }
}

torch::Tensor FloatTensor(const float* data, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(data), {rows, cols}, torch::kFloat32);
}

torch::Tensor MaskTensor(const uint8_t* data, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<uint8_t*>(data), {rows, cols}, torch::kUInt8).to(torch::kBool);
}

// Declared in policy.h: process-wide torch settings for torch-free callers.
void SetTorchThreads(int threads) {
  if (threads <= 0) throw std::invalid_argument("SetTorchThreads: threads must be positive");
  at::set_num_threads(threads);
  // Debian's libtorch hands matrix products to the system BLAS. When that is OpenBLAS, its own
  // thread pool would start one thread per core on top of torch's: cap it the same way. Looked
  // up at run time so that any BLAS (or none with this symbol) works.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

void SeedTorch(uint64_t seed) { torch::manual_seed(seed); }

}  // namespace eonops::agents
