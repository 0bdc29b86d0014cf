// Policies trained outside eonops (in PyTorch from Python, or any framework that can hand over
// its weights as float arrays) written as eonops policy artifacts, so that Policy::Load,
// `eonops evaluate` and `eonops pce serve --policy-dir` take them exactly like a policy eonops
// trained: the weights file is written by the same code as the trainer's.
//
// The weights are the manifest's network (agents/model.h) as named row-major float arrays with
// the C++ names and shapes, e.g. for PPO with hidden_sizes [64, 64]:
//   actor.fc0.weight [64, obs]  actor.fc0.bias [64]  actor.fc1.weight [64, 64] ...
//   critic.fc0.weight ...  policy_head.weight [actions, 64]  value_head.weight [1, 64] ...
// (a PyTorch nn.Module built from the same names has exactly this state_dict).
//
//   for (const WeightShape& w : ExpectedWeights(manifest)) ...      // what to hand over
//   ExportExternalPolicy(manifest, {{"actor.fc0.weight", {64, 35}, data}, ...}, "out/policy");
//
// Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agents/manifest.h"

namespace eonops::agents {

struct WeightShape {
  std::string name;
  std::vector<int64_t> shape;
};

// A caller-owned float array, row-major, with its name and shape.
struct NamedWeights {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;
};

// The parameters the manifest's network has, in its registration order.
std::vector<WeightShape> ExpectedWeights(const Manifest& manifest);

// Writes manifest.json and the weights into `dir` (created if needed), then loads the result
// back with Policy::Load to prove it is servable. Every expected tensor must be given once with
// its exact shape and finite values; errors (ConfigError) name the tensor and what is wrong.
void ExportExternalPolicy(const Manifest& manifest, const std::vector<NamedWeights>& weights,
                          const std::string& dir);

}  // namespace eonops::agents
