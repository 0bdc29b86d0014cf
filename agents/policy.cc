#include "agents/policy.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>

#include "agents/fused_mlp.h"
#include "agents/model.h"
#include "agents/torch_policy.h"

namespace eonops::agents {

namespace fs = std::filesystem;

void SaveModule(const torch::nn::Module& module, std::ostream& out) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  archive.save_to(out);
}

void SaveModule(const torch::nn::Module& module, const std::string& path) {
  // Written beside the target and renamed, so a crash never leaves half a file under the name.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw std::runtime_error(tmp + ": cannot write");
    SaveModule(module, out);
    out.flush();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  fs::rename(tmp, path);
}

namespace {

std::string Shape(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void LoadInto(torch::nn::Module& module, torch::serialize::InputArchive& archive,
              const std::string& prefix, const std::string& source) {
  torch::NoGradGuard no_grad;
  std::set<std::string> expected;
  auto load_tensor = [&](const std::string& key, torch::Tensor& target, bool is_buffer) {
    expected.insert(key);
    torch::Tensor stored;
    if (!archive.try_read(key, stored, is_buffer)) {
      throw ConfigError(source + ": weights: tensor '" + prefix + key + "' is missing");
    }
    if (stored.sizes() != target.sizes()) {
      throw ConfigError(source + ": weights: tensor '" + prefix + key + "' has shape " +
                        Shape(stored) + ", the manifest's network needs " + Shape(target));
    }
    target.copy_(stored);
  };
  for (auto& item : module.named_parameters(/*recurse=*/false)) {
    load_tensor(item.key(), item.value(), false);
  }
  for (auto& item : module.named_buffers(/*recurse=*/false)) {
    load_tensor(item.key(), item.value(), true);
  }
  for (auto& child : module.named_children()) {
    expected.insert(child.key());
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub)) {
      throw ConfigError(source + ": weights: module '" + prefix + child.key() + "' is missing");
    }
    LoadInto(*child.value(), sub, prefix + child.key() + ".", source);
  }
  for (const std::string& key : archive.keys()) {
    if (!expected.count(key)) {
      throw ConfigError(source + ": weights: unexpected entry '" + prefix + key +
                        "' (weights of another architecture?)");
    }
  }
}

}  // namespace

void LoadModule(torch::nn::Module& module, std::istream& in, const std::string& source) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(in);
  } catch (const c10::Error& e) {
    throw ConfigError(source + ": not a torch archive (" + std::string(e.what_without_backtrace()) +
                      ")");
  }
  LoadInto(module, archive, "", source);
}

void LoadModule(torch::nn::Module& module, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open");
  LoadModule(module, in, path);
}

std::shared_ptr<torch::nn::Module> MakeNetwork(const Manifest& m) {
  if (m.network == NetworkKind::kActorCritic) {
    return std::make_shared<ActorCriticImpl>(m.observation_size, m.num_actions, m.architecture);
  }
  return std::make_shared<QNetworkImpl>(m.observation_size, m.num_actions, m.architecture);
}

namespace {

// Single-request inference in plain loops over weights copied out of the loaded network. For
// one row, torch's addmm goes to BLAS, and Debian's libtorch uses whatever libblas.so.3 the
// system selects (the reference BLAS by default), which costs ~2 us per layer; an axpy over
// contiguous [in][out] rows vectorises and allocates nothing. Results match the torch network
// to float rounding (policy_test.cc checks both).
struct DenseLayer {
  int in = 0, out = 0;
  std::vector<float> weight_t;  // [in][out]
  std::vector<float> bias;      // [out]

  static DenseLayer From(const torch::nn::Linear& linear) {
    DenseLayer l;
    torch::Tensor w = linear->weight.detach().t().contiguous();  // [in, out]
    l.in = static_cast<int>(w.size(0));
    l.out = static_cast<int>(w.size(1));
    l.weight_t.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    torch::Tensor b = linear->bias.detach().contiguous();
    l.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    return l;
  }
  // y = W x + b; y must not alias x.
  void Apply(const float* __restrict x, float* __restrict y) const {
    std::copy(bias.begin(), bias.end(), y);
    for (int i = 0; i < in; ++i) {
      const float xi = x[i];
      const float* __restrict row = &weight_t[static_cast<size_t>(i) * out];
      for (int o = 0; o < out; ++o) y[o] += xi * row[o];
    }
  }
};

// Hidden layers (each followed by the activation) with their own output buffers.
class DenseChain {
 public:
  void Build(const Mlp& mlp) {
    activation_ = mlp->activation();
    for (const auto& layer : mlp->layers()) {
      layers_.push_back(DenseLayer::From(layer));
      buffers_.emplace_back(layers_.back().out);
    }
  }
  // Returns the last hidden activation (valid until the next Run).
  const float* Run(const float* input) {
    const float* x = input;
    for (size_t k = 0; k < layers_.size(); ++k) {
      layers_[k].Apply(x, buffers_[k].data());
      ActivateInPlace(activation_, buffers_[k].data(), layers_[k].out);
      x = buffers_[k].data();
    }
    return x;
  }

 private:
  Activation activation_ = Activation::kTanh;
  std::vector<DenseLayer> layers_;
  std::vector<std::vector<float>> buffers_;
};

// The deployed policy: greedy, single request, one network copy, calls serialised.
class TorchPolicy final : public Policy {
 public:
  explicit TorchPolicy(Manifest manifest) : manifest_(std::move(manifest)) {
    network_ = MakeNetwork(manifest_);
    network_->eval();
  }

  // Copies the (loaded) weights into the inference path; call after loading.
  void Finalize() {
    const int n = manifest_.num_actions;
    input_.resize(manifest_.observation_size);
    scores_.resize(n);
    if (auto ac = std::dynamic_pointer_cast<ActorCriticImpl>(network_);
        ac && manifest_.architecture.policy == PolicyArchitecture::kCandidateScorer) {
      actor_critic_ = true;
      scorer_ = true;
      const bool with_context = !manifest_.architecture.context_hidden_sizes.empty();
      if (with_context) context_.Build(ac->context());
      trunk_.Build(ac->actor());
      critic_.Build(ac->critic());
      first_head_ = DenseLayer::From(ac->policy_head());
      second_head_ = DenseLayer::From(ac->value_head());
      const int f = manifest_.architecture.action_features_size;
      candidate_input_.resize(f + (with_context ? ac->context()->out_features() : 0));
    } else if (auto ac = std::dynamic_pointer_cast<ActorCriticImpl>(network_)) {
      actor_critic_ = true;
      trunk_.Build(ac->actor());
      if (!manifest_.architecture.shared_trunk) critic_.Build(ac->critic());
      first_head_ = DenseLayer::From(ac->policy_head());
      second_head_ = DenseLayer::From(ac->value_head());
    } else {
      auto q = std::dynamic_pointer_cast<QNetworkImpl>(network_);
      trunk_.Build(q->trunk());
      if (manifest_.architecture.dueling) {
        first_head_ = DenseLayer::From(q->advantage_head());
        second_head_ = DenseLayer::From(q->value_head());
      } else {
        first_head_ = DenseLayer::From(q->q_head());
      }
    }
  }

  torch::nn::Module& network() { return *network_; }

  Decision Act(const float* observation, const uint8_t* mask) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const float* s = Forward(observation, mask);
    const int n = manifest_.num_actions;
    int best = -1;
    for (int a = 0; a < n; ++a) {
      if (mask[a] && (best < 0 || s[a] > s[best])) best = a;
    }
    Decision d;
    if (best < 0) return d;
    d.action = best;
    if (actor_critic_) {
      // Softmax over the feasible logits, evaluated at the argmax.
      double sum = 0.0;
      for (int a = 0; a < n; ++a) {
        if (mask[a]) sum += std::exp(static_cast<double>(s[a]) - s[best]);
      }
      d.probability = static_cast<float>(1.0 / sum);
      d.value = value_;
    } else {
      d.probability = 1.0f;
      d.value = s[best];
    }
    return d;
  }

  void Scores(const float* observation, const uint8_t* mask, float* scores) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const float* s = Forward(observation, mask);
    const int n = manifest_.num_actions;
    if (!actor_critic_) {
      for (int a = 0; a < n; ++a)
        scores[a] = mask[a] ? s[a] : -std::numeric_limits<float>::infinity();
      return;
    }
    double max = -std::numeric_limits<double>::infinity();
    for (int a = 0; a < n; ++a) {
      if (mask[a]) max = std::max<double>(max, s[a]);
    }
    double sum = 0.0;
    for (int a = 0; a < n; ++a) sum += mask[a] ? std::exp(s[a] - max) : 0.0;
    for (int a = 0; a < n; ++a) {
      scores[a] = mask[a] ? static_cast<float>(std::exp(s[a] - max) / sum) : 0.0f;
    }
  }

  const Manifest& manifest() const override { return manifest_; }

 private:
  // Runs the network on one observation: returns the logits or Q-values (num_actions floats,
  // valid until the next call; a candidate scorer scores the feasible actions only) and leaves
  // the critic's value in value_.
  const float* Forward(const float* observation, const uint8_t* mask) const {
    float* in = input_.data();
    if (manifest_.normalization) {
      manifest_.normalization->Normalize(observation, in);
    } else {
      std::copy_n(observation, manifest_.observation_size, in);
    }
    if (scorer_) return ForwardScorer(in, mask);
    const float* h = trunk_.Run(in);
    float* out = scores_.data();
    first_head_.Apply(h, out);
    if (actor_critic_) {
      const float* hv = manifest_.architecture.shared_trunk ? h : critic_.Run(in);
      second_head_.Apply(hv, &value_);
      return out;
    }
    if (!manifest_.architecture.dueling) return out;
    // Q = V + A - mean(A), as QNetworkImpl::forward.
    float v;
    second_head_.Apply(h, &v);
    const int n = manifest_.num_actions;
    float mean = 0.0f;
    for (int a = 0; a < n; ++a) mean += out[a];
    mean /= n;
    for (int a = 0; a < n; ++a) out[a] = v + out[a] - mean;
    return out;
  }

  // The candidate scorer (ActorCriticImpl::Logits): each feasible action's features and the
  // context through the shared scorer, plus the prior; the reject action scores 0.
  const float* ForwardScorer(const float* in, const uint8_t* mask) const {
    const ModelOptions& arch = manifest_.architecture;
    const int n = manifest_.num_actions, f = arch.action_features_size;
    if (candidate_input_.size() > static_cast<size_t>(f)) {
      const float* context = context_.Run(in);
      std::copy_n(context, candidate_input_.size() - f, candidate_input_.data() + f);
    }
    float* out = scores_.data();
    for (int a = 0; a + 1 < n; ++a) {
      if (!mask[a]) {
        out[a] = -std::numeric_limits<float>::infinity();
        continue;
      }
      const float* features = in + arch.action_features_offset + static_cast<size_t>(a) * f;
      std::copy_n(features, f, candidate_input_.data());
      first_head_.Apply(trunk_.Run(candidate_input_.data()), &out[a]);
      out[a] += arch.prior_scale * features[arch.prior_feature];
    }
    out[n - 1] = 0.0f;
    second_head_.Apply(critic_.Run(in), &value_);
    return out;
  }

  Manifest manifest_;
  std::shared_ptr<torch::nn::Module> network_;  // holds the loaded parameters
  bool actor_critic_ = false;
  bool scorer_ = false;
  mutable DenseChain context_;  // candidate scorer only
  mutable std::vector<float> candidate_input_;
  // Inference path (scratch buffers are members: calls are serialised by mutex_).
  mutable DenseChain trunk_, critic_;    // trunk_: the actor's, or the Q-network's
  DenseLayer first_head_, second_head_;  // policy/value heads, or advantage/value heads
  mutable std::mutex mutex_;
  mutable std::vector<float> input_, scores_;
  mutable float value_ = 0.0f;
};

}  // namespace

std::unique_ptr<Policy> Policy::Load(const std::string& dir) {
  Manifest manifest = ReadManifest(dir);
  const std::string weights = (fs::path(dir) / manifest.weights_file).string();
  auto policy = std::make_unique<TorchPolicy>(std::move(manifest));
  LoadModule(policy->network(), weights);
  policy->Finalize();
  return policy;
}

std::unique_ptr<Policy> MakePolicy(const Manifest& manifest, const torch::nn::Module& network) {
  std::stringstream weights;
  SaveModule(network, weights);
  auto policy = std::make_unique<TorchPolicy>(manifest);
  LoadModule(policy->network(), weights, "<in-memory snapshot>");
  policy->Finalize();
  return policy;
}

void ExportPolicy(const Manifest& manifest, const torch::nn::Module& network,
                  const std::string& dir) {
  fs::create_directories(dir);
  SaveModule(network, (fs::path(dir) / manifest.weights_file).string());
  WriteManifest(manifest, dir);
}

}  // namespace eonops::agents
