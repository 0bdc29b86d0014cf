#include "agents/external_policy.h"

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "agents/policy.h"
#include "agents/torch_policy.h"

namespace eonops::agents {

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

std::string NameList(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<WeightShape> ExpectedWeights(const Manifest& manifest) {
  std::shared_ptr<torch::nn::Module> network = MakeNetwork(manifest);
  std::vector<WeightShape> out;
  for (const auto& p : network->named_parameters(/*recurse=*/true)) {
    out.push_back({p.key(), p.value().sizes().vec()});
  }
  return out;
}

void ExportExternalPolicy(const Manifest& manifest, const std::vector<NamedWeights>& weights,
                          const std::string& dir) {
  const std::string who = "policy weights";
  std::shared_ptr<torch::nn::Module> network = MakeNetwork(manifest);
  if (!network->named_buffers(/*recurse=*/true).is_empty()) {
    throw ConfigError(who + ": the manifest's network has buffers, which external weights cannot set");
  }
  auto params = network->named_parameters(/*recurse=*/true);
  std::set<std::string> all, given;
  for (const auto& p : params) all.insert(p.key());
  std::set<std::string> missing = all;
  torch::NoGradGuard no_grad;
  for (const NamedWeights& w : weights) {
    const torch::Tensor* target = params.find(w.name);
    if (target == nullptr) {
      throw ConfigError(who + ": unexpected tensor '" + w.name + "' (the " + manifest.algorithm +
                        " network of this manifest has " + NameList(all) + ")");
    }
    if (!given.insert(w.name).second) throw ConfigError(who + ": tensor '" + w.name + "' given twice");
    missing.erase(w.name);
    const std::vector<int64_t> expected = target->sizes().vec();
    if (w.shape != expected) {
      throw ConfigError(who + ": tensor '" + w.name + "' has shape " + ShapeText(w.shape) +
                        ", the manifest's network needs " + ShapeText(expected));
    }
    if (w.data == nullptr) throw ConfigError(who + ": tensor '" + w.name + "' has no data");
    const int64_t n = target->numel();
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(w.data[i])) {
        throw ConfigError(who + ": tensor '" + w.name + "' has a non-finite value at flat index " +
                          std::to_string(i));
      }
    }
    torch::Tensor source = torch::from_blob(const_cast<float*>(w.data), w.shape, torch::kFloat);
    const_cast<torch::Tensor*>(target)->copy_(source);
  }
  if (!missing.empty()) throw ConfigError(who + ": missing tensors: " + NameList(missing));
  ExportPolicy(manifest, *network, dir);
  Policy::Load(dir);  // what the PCE will do: fail here, not in service
}

}  // namespace eonops::agents
