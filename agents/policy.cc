#include "agents/policy.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>

#include <c10/core/InferenceMode.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

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
    throw ConfigError(source + ": not a torch archive (" + std::string(e.what_without_backtrace()) + ")");
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

// The deployed policy: greedy, single request, one network copy, calls serialised.
class TorchPolicy final : public Policy {
 public:
  explicit TorchPolicy(Manifest manifest) : manifest_(std::move(manifest)) {
    network_ = MakeNetwork(manifest_);
    network_->eval();
    actor_critic_ = std::dynamic_pointer_cast<ActorCriticImpl>(network_);
    q_network_ = std::dynamic_pointer_cast<QNetworkImpl>(network_);
    input_ = torch::zeros({1, manifest_.observation_size});
  }

  torch::nn::Module& network() { return *network_; }

  Decision Act(const float* observation, const uint8_t* mask) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Forward(observation);
    const int n = manifest_.num_actions;
    const float* s = scores_;
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
    Forward(observation);
    const int n = manifest_.num_actions;
    const float* s = scores_;
    if (q_network_) {
      for (int a = 0; a < n; ++a) scores[a] = mask[a] ? s[a] : -std::numeric_limits<float>::infinity();
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
  // Runs the network on one observation; leaves logits or Q-values in scores_ (and value_).
  void Forward(const float* observation) const {
    float* in = input_.data_ptr<float>();
    if (manifest_.normalization) {
      manifest_.normalization->Normalize(observation, in);
    } else {
      std::copy_n(observation, manifest_.observation_size, in);
    }
    c10::InferenceMode guard;
    if (actor_critic_) {
      PolicyOutput out = actor_critic_->forward(input_);
      output_ = out.logits.contiguous();
      value_ = out.value.item<float>();
    } else {
      output_ = q_network_->forward(input_).contiguous();
    }
    scores_ = output_.data_ptr<float>();
  }

  Manifest manifest_;
  std::shared_ptr<torch::nn::Module> network_;
  std::shared_ptr<ActorCriticImpl> actor_critic_;
  std::shared_ptr<QNetworkImpl> q_network_;
  mutable std::mutex mutex_;
  mutable torch::Tensor input_, output_;
  mutable const float* scores_ = nullptr;
  mutable float value_ = 0.0f;
};

}  // namespace

std::unique_ptr<Policy> Policy::Load(const std::string& dir) {
  Manifest manifest = ReadManifest(dir);
  const std::string weights = (fs::path(dir) / manifest.weights_file).string();
  auto policy = std::make_unique<TorchPolicy>(std::move(manifest));
  LoadModule(policy->network(), weights);
  return policy;
}

std::unique_ptr<Policy> MakePolicy(const Manifest& manifest, const torch::nn::Module& network) {
  std::stringstream weights;
  SaveModule(network, weights);
  auto policy = std::make_unique<TorchPolicy>(manifest);
  LoadModule(policy->network(), weights, "<in-memory snapshot>");
  return policy;
}

void ExportPolicy(const Manifest& manifest, const torch::nn::Module& network,
                  const std::string& dir) {
  fs::create_directories(dir);
  SaveModule(network, (fs::path(dir) / manifest.weights_file).string());
  WriteManifest(manifest, dir);
}

}  // namespace eonops::agents
